"""Helpers shared by the test modules: demo ids, catalog look-ups and google.rpc error details."""

from __future__ import annotations

import uuid
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from csp.commerce.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    customer_pb2,
    customer_pb2_grpc,
)

# Demo data (data/demo/seed.json): ids are uuid5 of fixed keys and never change.
US_FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"  # partner us, US, no qualifications
US_NORTHWIND_FOUNDATION = "77358f27-ac37-5fd0-89b3-761011fcc602"  # nonprofit (approved)

M = TypeVar("M", bound=Message)


def request_id() -> str:
    """A fresh idempotency key for a write: a retry with the same one is applied once."""
    return str(uuid.uuid4())


def new_customer(
    customers: customer_pb2_grpc.CustomerServiceStub,
    auth: list[tuple[str, str]],
    name: str,
    country: str = "US",
) -> customer_pb2.Customer:
    """A new customer of the caller's partner that has accepted the Microsoft Customer Agreement
    (a clean slate: no subscriptions another test bought)."""
    slug = name.lower().replace(" ", "-")
    created = customers.CreateCustomer(
        customer_pb2.CreateCustomerRequest(
            request_id=request_id(),
            company_name=name,
            country=country,
            email=f"it@{slug}.example.com",
            domain=f"{slug}.example.com",
        ),
        metadata=auth,
    ).customer
    return customers.AcceptAgreement(
        customer_pb2.AcceptAgreementRequest(
            request_id=request_id(),
            customer_id=created.id,
            etag=created.etag,
            contact_name="Avery Example",
            contact_email=f"avery@{slug}.example.com",
        ),
        metadata=auth,
    ).customer


def catalog_item(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    auth: list[tuple[str, str]],
    product_id: str,
    sku_id: str,
    country: str,
    segment: common_pb2.Segment = common_pb2.SEGMENT_COMMERCIAL,
) -> catalog_pb2.Availability:
    """The availability of a SKU in one country and segment (its catalog_item_id goes in a cart)."""
    reply = catalog.ListAvailabilities(
        catalog_pb2.ListAvailabilitiesRequest(
            product_id=product_id, sku_id=sku_id, country=country, segment=segment
        ),
        metadata=auth,
    )
    assert len(reply.availabilities) == 1, reply
    return reply.availabilities[0]


def detail(error: grpc.RpcError, kind: type[M]) -> M:
    """The google.rpc detail of type `kind` in the error's `grpc-status-details-bin` trailer."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no grpc-status-details-bin in {error}"
    for any_detail in status.details:
        if any_detail.Is(kind.DESCRIPTOR):
            message = kind()
            any_detail.Unpack(message)
            return message
    raise AssertionError(
        f"no {kind.DESCRIPTOR.full_name} among {[d.type_url for d in status.details]}"
    )


BadRequest = error_details_pb2.BadRequest
PreconditionFailure = error_details_pb2.PreconditionFailure
ErrorInfo = error_details_pb2.ErrorInfo
