import os, uuid
import csp.commerce
from csp.commerce.money import format_money as money  # exact: Decimal, never a float
from csp.commerce.v1 import cart_pb2, catalog_pb2, common_pb2, order_pb2

ADDR = os.environ.get("CSP_ADDR", "127.0.0.1:50051")
TOKEN = os.environ["CSP_TOKEN"]  # csp-commerce token --partner us --role sales_agent
FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"  # demo customer of partner us (data/demo/seed.json)


api = csp.commerce.connect(ADDR, TOKEN)  # the token goes on every call
# 1. What Fabrikam may buy (its country, its segments, what checkout accepts), priced.
offers = api.catalog.ListOffers(catalog_pb2.ListOffersRequest(
    customer_id=FABRIKAM, filter=catalog_pb2.OfferFilter(text="e3"), page_size=3)).offers
for o in offers:
    print(o.catalog_item_id, o.product_title, common_pb2.TermDuration.Name(o.term),
          common_pb2.BillingCycle.Name(o.billing_cycle), money(o.term_price))
offer = offers[0]
# 2. A cart with its line: the answer is its review (prices, problems, totals).
line = cart_pb2.CartLineInput(catalog_item_id=offer.catalog_item_id, quantity=max(offer.min_quantity, 1),
    term=offer.term, billing_cycle=offer.billing_cycle)
cart = api.carts.CreateCart(cart_pb2.CreateCartRequest(
    request_id=str(uuid.uuid4()), customer_id=FABRIKAM, lines=[line])).cart  # idempotency key: retry with the same one
print("review", [common_pb2.ProblemCode.Name(p.code) for p in cart.problems], "total", *(money(t) for t in cart.totals))
# 3. Buy it.
order = api.carts.Checkout(cart_pb2.CheckoutRequest(request_id=str(uuid.uuid4()), cart_id=cart.id, etag=cart.etag)).order
print("order", order.order_number, money(order.total))
# 4. The customer's order history.
for past in api.orders.ListOrders(order_pb2.ListOrdersRequest(customer_id=FABRIKAM)).orders:
    print("history", past.order_number, money(past.total))
