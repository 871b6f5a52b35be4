import datetime

from csp.commerce.v1 import common_pb2 as _common_pb2
from csp.commerce.v1 import order_pb2 as _order_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import money_pb2 as _money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CartStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CART_STATUS_UNSPECIFIED: _ClassVar[CartStatus]
    CART_STATUS_ACTIVE: _ClassVar[CartStatus]
    CART_STATUS_ORDERED: _ClassVar[CartStatus]
    CART_STATUS_EXPIRED: _ClassVar[CartStatus]
CART_STATUS_UNSPECIFIED: CartStatus
CART_STATUS_ACTIVE: CartStatus
CART_STATUS_ORDERED: CartStatus
CART_STATUS_EXPIRED: CartStatus

class ProvisioningContext(_message.Message):
    __slots__ = ("parent_subscription_id", "scope", "azure_subscription_id")
    PARENT_SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AZURE_SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    parent_subscription_id: str
    scope: str
    azure_subscription_id: str
    def __init__(self, parent_subscription_id: _Optional[str] = ..., scope: _Optional[str] = ..., azure_subscription_id: _Optional[str] = ...) -> None: ...

class CartLineInput(_message.Message):
    __slots__ = ("catalog_item_id", "quantity", "term", "billing_cycle", "provisioning_context")
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    PROVISIONING_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    catalog_item_id: str
    quantity: int
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    provisioning_context: ProvisioningContext
    def __init__(self, catalog_item_id: _Optional[str] = ..., quantity: _Optional[int] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., provisioning_context: _Optional[_Union[ProvisioningContext, _Mapping]] = ...) -> None: ...

class CartLine(_message.Message):
    __slots__ = ("id", "catalog_item_id", "quantity", "term", "billing_cycle", "provisioning_context", "product_title", "sku_title", "unit_term_price", "term_price", "problems", "billing_period_charge", "billing_periods")
    ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    PROVISIONING_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SKU_TITLE_FIELD_NUMBER: _ClassVar[int]
    UNIT_TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIOD_CHARGE_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIODS_FIELD_NUMBER: _ClassVar[int]
    id: str
    catalog_item_id: str
    quantity: int
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    provisioning_context: ProvisioningContext
    product_title: str
    sku_title: str
    unit_term_price: _money_pb2.Money
    term_price: _money_pb2.Money
    problems: _containers.RepeatedCompositeFieldContainer[_common_pb2.PurchaseProblem]
    billing_period_charge: _money_pb2.Money
    billing_periods: int
    def __init__(self, id: _Optional[str] = ..., catalog_item_id: _Optional[str] = ..., quantity: _Optional[int] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., provisioning_context: _Optional[_Union[ProvisioningContext, _Mapping]] = ..., product_title: _Optional[str] = ..., sku_title: _Optional[str] = ..., unit_term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., problems: _Optional[_Iterable[_Union[_common_pb2.PurchaseProblem, _Mapping]]] = ..., billing_period_charge: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., billing_periods: _Optional[int] = ...) -> None: ...

class Cart(_message.Message):
    __slots__ = ("id", "customer_id", "status", "lines", "totals", "create_time", "expire_time", "etag", "problems", "order_id", "first_charge_totals")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_CHARGE_TOTALS_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    status: CartStatus
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    totals: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    etag: str
    problems: _containers.RepeatedCompositeFieldContainer[_common_pb2.PurchaseProblem]
    order_id: str
    first_charge_totals: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[CartStatus, str]] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., totals: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., problems: _Optional[_Iterable[_Union[_common_pb2.PurchaseProblem, _Mapping]]] = ..., order_id: _Optional[str] = ..., first_charge_totals: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ...) -> None: ...

class CreateCartRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "lines")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLineInput]
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLineInput, _Mapping]]] = ...) -> None: ...

class CreateCartResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class GetCartRequest(_message.Message):
    __slots__ = ("cart_id",)
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    def __init__(self, cart_id: _Optional[str] = ...) -> None: ...

class GetCartResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class ListCartsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCartsResponse(_message.Message):
    __slots__ = ("carts", "next_page_token")
    CARTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    carts: _containers.RepeatedCompositeFieldContainer[Cart]
    next_page_token: str
    def __init__(self, carts: _Optional[_Iterable[_Union[Cart, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteCartRequest(_message.Message):
    __slots__ = ("request_id", "cart_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    cart_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., cart_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteCartResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddCartLineRequest(_message.Message):
    __slots__ = ("request_id", "cart_id", "etag", "line")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    cart_id: str
    etag: str
    line: CartLineInput
    def __init__(self, request_id: _Optional[str] = ..., cart_id: _Optional[str] = ..., etag: _Optional[str] = ..., line: _Optional[_Union[CartLineInput, _Mapping]] = ...) -> None: ...

class AddCartLineResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class UpdateCartLineRequest(_message.Message):
    __slots__ = ("request_id", "cart_id", "line_id", "etag", "line")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    cart_id: str
    line_id: str
    etag: str
    line: CartLineInput
    def __init__(self, request_id: _Optional[str] = ..., cart_id: _Optional[str] = ..., line_id: _Optional[str] = ..., etag: _Optional[str] = ..., line: _Optional[_Union[CartLineInput, _Mapping]] = ...) -> None: ...

class UpdateCartLineResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class RemoveCartLineRequest(_message.Message):
    __slots__ = ("request_id", "cart_id", "line_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    cart_id: str
    line_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., cart_id: _Optional[str] = ..., line_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class RemoveCartLineResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class CheckoutRequest(_message.Message):
    __slots__ = ("request_id", "cart_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    cart_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., cart_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class CheckoutResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...
