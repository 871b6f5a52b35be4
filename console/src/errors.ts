// Errors as sentences: a ConnectError's google.rpc details (decoded from the gRPC-Web
// grpc-status-details-bin trailer by Connect-ES) become what a person reads; never raw JSON.
import { Code, ConnectError } from "@connectrpc/connect";

import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "../../clients/typescript/src/gen/google/rpc/error_details_pb.js";
import { problemCodeFromReason, problemText } from "./format.js";

/** What went wrong, as a person reads it. */
export interface Explained {
  /** One sentence: what failed. */
  summary: string;
  /** Every detail the server gave, each a sentence. */
  details: string[];
  /** The write was judged on a version that changed since (ABORTED, ETAG_MISMATCH). */
  conflict: boolean;
  /** The token is missing, expired or refused. */
  signedOut: boolean;
}

const WHAT: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: "The request has a mistake",
  [Code.NotFound]: "Not found",
  [Code.AlreadyExists]: "It already exists",
  [Code.PermissionDenied]: "Your role may not do this",
  [Code.FailedPrecondition]: "Not possible now",
  [Code.Aborted]: "Changed elsewhere",
  [Code.ResourceExhausted]: "Too many requests",
  [Code.Unauthenticated]: "You are not signed in (or your token expired)",
  [Code.Unavailable]: "The server cannot be reached",
  [Code.DeadlineExceeded]: "The server took too long to answer",
  [Code.Unimplemented]: "The server does not offer this",
  [Code.Internal]: "The server failed",
};

const sentence = (text: string): string => {
  const t = text.trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
};

export function explain(error: unknown): Explained {
  const e = ConnectError.from(error);
  const details: string[] = [];
  const info = e.findDetails(ErrorInfoSchema)[0];
  for (const bad of e.findDetails(BadRequestSchema)) {
    for (const v of bad.fieldViolations) details.push(sentence(v.field ? `${v.field}: ${v.description}` : v.description));
  }
  for (const pre of e.findDetails(PreconditionFailureSchema)) {
    for (const v of pre.violations) {
      const code = problemCodeFromReason(v.type);
      details.push(sentence(code ? problemText(code, v.description) : v.description));
    }
  }
  for (const r of e.findDetails(ResourceInfoSchema)) {
    if (e.code === Code.NotFound && !e.rawMessage) details.push(sentence(`${r.resourceType} ${r.resourceName} does not exist or is not yours`));
  }
  for (const q of e.findDetails(QuotaFailureSchema)) {
    for (const v of q.violations) details.push(sentence(v.description));
  }
  for (const r of e.findDetails(RetryInfoSchema)) {
    const ms = Number(r.retryDelay?.seconds ?? 0n) * 1000 + Math.round((r.retryDelay?.nanos ?? 0) / 1e6);
    details.push(`Try again in ${Math.max(1, Math.ceil(ms / 1000))} s.`);
  }
  const conflict = e.code === Code.Aborted && (info?.reason ?? "ETAG_MISMATCH") === "ETAG_MISMATCH";
  const what = WHAT[e.code] ?? "The request failed";
  let message = e.rawMessage;
  if (e.code === Code.Unavailable && /fetch|network/i.test(message)) message = "check that it is running";
  if (conflict) {
    details.unshift("Someone changed this elsewhere since you loaded it: reload to see it as it is now, then try again.");
  }
  return {
    summary: message ? `${what}: ${sentence(message)}` : `${what}.`,
    details: details.filter((d, i) => d && details.indexOf(d) === i),
    conflict,
    signedOut: e.code === Code.Unauthenticated,
  };
}
