import os, uuid
import csp.commerce
from csp.commerce.v1 import catalog_pb2, customer_pb2

ADDR = os.environ.get("CSP_ADDR", "127.0.0.1:50051")
TOKEN = os.environ["CSP_TOKEN"]  # csp-commerce token --partner us --role sales_agent
FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"  # demo customer of partner us (data/demo/seed.json)

api = csp.commerce.connect(ADDR, TOKEN)  # the token goes on every call
customer = api.customers.GetCustomer(customer_pb2.GetCustomerRequest(customer_id=FABRIKAM)).customer
print(customer.company_name, customer.country)
page = api.catalog.ListProducts(catalog_pb2.ListProductsRequest(filter=catalog_pb2.CatalogFilter(country=customer.country, text="e3"), page_size=3))
for product in page.products:
    print(product.id, product.title)
request = customer_pb2.CreateCustomerRequest(request_id=str(uuid.uuid4()),  # idempotency key: retry with the same one
    company_name="Contoso Ltd", country="US", email="it@contoso.example.com", domain="contoso.example.com")
print("customer", api.customers.CreateCustomer(request).customer.id)
