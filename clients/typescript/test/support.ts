// Helpers shared by the test files: demo ids and catalog look-ups.
import type { Client } from "@connectrpc/connect";
import {
  type Availability,
  type CatalogService,
  type Customer,
  type CustomerService,
  Segment,
} from "@csp-commerce/client";
import { requestId } from "./server.js";

// Demo data (data/demo/seed.json): ids are uuid5 of fixed keys and never change.
export const US_FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"; // partner us, US, no qualifications
export const US_NORTHWIND_FOUNDATION = "77358f27-ac37-5fd0-89b3-761011fcc602"; // nonprofit (approved)

/** The availability of a SKU in one country and segment (its catalogItemId goes in a cart). */
export async function catalogItem(
  catalog: Client<typeof CatalogService>,
  productId: string,
  skuId: string,
  country: string,
  segment: Segment = Segment.COMMERCIAL,
): Promise<Availability> {
  const { availabilities } = await catalog.listAvailabilities({ productId, skuId, country, segment });
  if (availabilities.length !== 1) throw new Error(`expected one availability, got ${availabilities.length}`);
  return availabilities[0];
}

/** A new customer that has accepted the Microsoft Customer Agreement (owns nothing yet). */
export async function newCustomer(customers: Client<typeof CustomerService>, name: string): Promise<Customer> {
  const slug = name.toLowerCase().replaceAll(" ", "-");
  const { customer: created } = await customers.createCustomer({
    requestId: requestId(),
    companyName: name,
    country: "US",
    email: `it@${slug}.example.com`,
    domain: `${slug}.example.com`,
  });
  const { customer } = await customers.acceptAgreement({
    requestId: requestId(),
    customerId: created!.id,
    etag: created!.etag,
    contactName: "Avery Example",
    contactEmail: `avery@${slug}.example.com`,
  });
  return customer!;
}
