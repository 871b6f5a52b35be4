"""Customers: create (idempotent per request_id) and read back."""

from __future__ import annotations

from csp.commerce.v1 import customer_pb2
from support import request_id


def test_create_customer_is_idempotent_per_request_id(customers, auth):
    request = customer_pb2.CreateCustomerRequest(
        request_id=request_id(),
        company_name="Python Client Test Ltd",
        country="US",
        email="it@python-client.example.com",
        domain="python-client.example.com",
    )
    created = customers.CreateCustomer(request, metadata=auth).customer
    assert created.id and created.etag
    assert created.company_name == "Python Client Test Ltd"

    retried = customers.CreateCustomer(request, metadata=auth).customer
    assert retried.id == created.id, "a retry with the same request_id returns the first customer"

    read = customers.GetCustomer(
        customer_pb2.GetCustomerRequest(customer_id=created.id), metadata=auth
    ).customer
    assert read.domain == "python-client.example.com"
    assert not read.HasField("agreement")

    listed, token = [], ""
    while True:
        page = customers.ListCustomers(
            customer_pb2.ListCustomersRequest(page_size=2, page_token=token), metadata=auth
        )
        listed += [c.id for c in page.customers]
        token = page.next_page_token
        if not token:
            break
    assert listed.count(created.id) == 1
