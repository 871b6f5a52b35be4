import os, uuid, grpc
from csp.commerce.v1 import catalog_pb2, catalog_pb2_grpc, customer_pb2, customer_pb2_grpc

channel = grpc.insecure_channel(os.environ.get("CSP_ADDR", "127.0.0.1:50051"))
auth = [("authorization", f"Bearer {os.environ['CSP_TOKEN']}")]  # on every call
catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
page = catalog.ListProducts(catalog_pb2.ListProductsRequest(filter=catalog_pb2.CatalogFilter(country="US", text="e3"), page_size=3), metadata=auth)
for product in page.products:
    print(product.id, product.title)
customers = customer_pb2_grpc.CustomerServiceStub(channel)
request = customer_pb2.CreateCustomerRequest(request_id=str(uuid.uuid4()),  # idempotency key: retry with the same one
    company_name="Contoso Ltd", country="US", email="it@contoso.example.com", domain="contoso.example.com")
print("customer", customers.CreateCustomer(request, metadata=auth).customer.id)
