// The public surface of @csp-commerce/client: every generated message, enum and service of
// csp.commerce.v1, plus google.type.Money, the google.rpc error details (for
// ConnectError.findDetails) and the grpc.health.v1 service. The generated files under src/gen are written by clients/generate.sh.
// connect() (src/connect.ts, hand-written) gives a client per service with the token on every call;
// src/money.ts (hand-written) turns google.type.Money into exact text.
export * from "./connect.js";
export * from "./money.js";
export * from "./gen/csp/commerce/v1/common_pb.js";
export * from "./gen/csp/commerce/v1/catalog_pb.js";
export * from "./gen/csp/commerce/v1/customer_pb.js";
export * from "./gen/csp/commerce/v1/cart_pb.js";
export * from "./gen/csp/commerce/v1/order_pb.js";
export * from "./gen/csp/commerce/v1/subscription_events_pb.js";
export * from "./gen/csp/commerce/v1/operator_pb.js";
export * from "./gen/google/type/money_pb.js";
export * from "./gen/google/rpc/status_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";
export * from "./gen/grpc/health/v1/health_pb.js";
