import datetime

from csp.commerce.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import money_pb2 as _money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExpiryReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPIRY_REASON_UNSPECIFIED: _ClassVar[ExpiryReason]
    EXPIRY_REASON_AUTO_RENEW_OFF: _ClassVar[ExpiryReason]
    EXPIRY_REASON_TRIAL_ENDED: _ClassVar[ExpiryReason]
    EXPIRY_REASON_BASE_ENDED: _ClassVar[ExpiryReason]
    EXPIRY_REASON_RENEWAL_UNAVAILABLE: _ClassVar[ExpiryReason]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_COMPLETED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FAILED: _ClassVar[OrderStatus]

class SubscriptionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_STATUS_UNSPECIFIED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_ACTIVE: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_SUSPENDED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_CANCELLED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_EXPIRED: _ClassVar[SubscriptionStatus]

class TransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[TransactionType]
    TRANSACTION_TYPE_NEW: _ClassVar[TransactionType]
    TRANSACTION_TYPE_ADD_QUANTITY: _ClassVar[TransactionType]
    TRANSACTION_TYPE_REMOVE_QUANTITY: _ClassVar[TransactionType]
    TRANSACTION_TYPE_CANCEL: _ClassVar[TransactionType]
    TRANSACTION_TYPE_RENEW: _ClassVar[TransactionType]
    TRANSACTION_TYPE_CONVERT: _ClassVar[TransactionType]
    TRANSACTION_TYPE_EXPIRE: _ClassVar[TransactionType]
EXPIRY_REASON_UNSPECIFIED: ExpiryReason
EXPIRY_REASON_AUTO_RENEW_OFF: ExpiryReason
EXPIRY_REASON_TRIAL_ENDED: ExpiryReason
EXPIRY_REASON_BASE_ENDED: ExpiryReason
EXPIRY_REASON_RENEWAL_UNAVAILABLE: ExpiryReason
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING: OrderStatus
ORDER_STATUS_COMPLETED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_FAILED: OrderStatus
SUBSCRIPTION_STATUS_UNSPECIFIED: SubscriptionStatus
SUBSCRIPTION_STATUS_ACTIVE: SubscriptionStatus
SUBSCRIPTION_STATUS_SUSPENDED: SubscriptionStatus
SUBSCRIPTION_STATUS_CANCELLED: SubscriptionStatus
SUBSCRIPTION_STATUS_EXPIRED: SubscriptionStatus
TRANSACTION_TYPE_UNSPECIFIED: TransactionType
TRANSACTION_TYPE_NEW: TransactionType
TRANSACTION_TYPE_ADD_QUANTITY: TransactionType
TRANSACTION_TYPE_REMOVE_QUANTITY: TransactionType
TRANSACTION_TYPE_CANCEL: TransactionType
TRANSACTION_TYPE_RENEW: TransactionType
TRANSACTION_TYPE_CONVERT: TransactionType
TRANSACTION_TYPE_EXPIRE: TransactionType

class NextTerm(_message.Message):
    __slots__ = ("term", "billing_cycle", "quantity", "sku_id", "catalog_item_id")
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    quantity: int
    sku_id: str
    catalog_item_id: str
    def __init__(self, term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., quantity: _Optional[int] = ..., sku_id: _Optional[str] = ..., catalog_item_id: _Optional[str] = ...) -> None: ...

class ScheduleNextTermRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag", "next_term")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NEXT_TERM_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    next_term: NextTerm
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ..., next_term: _Optional[_Union[NextTerm, _Mapping]] = ...) -> None: ...

class ScheduleNextTermResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class SubscriptionTransaction(_message.Message):
    __slots__ = ("subscription_id", "version", "order_id", "customer_id", "type", "quantity_delta", "quantity", "period_start_time", "period_end_time", "amount", "create_time")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_DELTA_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_TIME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_TIME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    version: int
    order_id: str
    customer_id: str
    type: TransactionType
    quantity_delta: int
    quantity: int
    period_start_time: _timestamp_pb2.Timestamp
    period_end_time: _timestamp_pb2.Timestamp
    amount: _money_pb2.Money
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, subscription_id: _Optional[str] = ..., version: _Optional[int] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., type: _Optional[_Union[TransactionType, str]] = ..., quantity_delta: _Optional[int] = ..., quantity: _Optional[int] = ..., period_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("line_number", "catalog_item_id", "product_title", "sku_title", "quantity", "term", "billing_cycle", "unit_term_price", "term_price", "subscription_id", "billing_period_charge", "billing_periods")
    LINE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SKU_TITLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    UNIT_TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIOD_CHARGE_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIODS_FIELD_NUMBER: _ClassVar[int]
    line_number: int
    catalog_item_id: str
    product_title: str
    sku_title: str
    quantity: int
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    unit_term_price: _money_pb2.Money
    term_price: _money_pb2.Money
    subscription_id: str
    billing_period_charge: _money_pb2.Money
    billing_periods: int
    def __init__(self, line_number: _Optional[int] = ..., catalog_item_id: _Optional[str] = ..., product_title: _Optional[str] = ..., sku_title: _Optional[str] = ..., quantity: _Optional[int] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., unit_term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., subscription_id: _Optional[str] = ..., billing_period_charge: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., billing_periods: _Optional[int] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "order_number", "customer_id", "cart_id", "status", "currency_code", "lines", "total", "create_time", "cancel_time", "refund", "etag", "first_charge_total", "transactions")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FIRST_CHARGE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_number: str
    customer_id: str
    cart_id: str
    status: OrderStatus
    currency_code: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    total: _money_pb2.Money
    create_time: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    refund: _money_pb2.Money
    etag: str
    first_charge_total: _money_pb2.Money
    transactions: _containers.RepeatedCompositeFieldContainer[SubscriptionTransaction]
    def __init__(self, id: _Optional[str] = ..., order_number: _Optional[str] = ..., customer_id: _Optional[str] = ..., cart_id: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., currency_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refund: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., etag: _Optional[str] = ..., first_charge_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., transactions: _Optional[_Iterable[_Union[SubscriptionTransaction, _Mapping]]] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("id", "customer_id", "order_id", "catalog_item_id", "product_id", "sku_id", "title", "quantity", "term", "billing_cycle", "status", "start_time", "commitment_end_time", "auto_renew", "parent_subscription_id", "etag", "unit_term_price", "next_term", "expiry_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_END_TIME_FIELD_NUMBER: _ClassVar[int]
    AUTO_RENEW_FIELD_NUMBER: _ClassVar[int]
    PARENT_SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    UNIT_TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    NEXT_TERM_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    order_id: str
    catalog_item_id: str
    product_id: str
    sku_id: str
    title: str
    quantity: int
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    status: SubscriptionStatus
    start_time: _timestamp_pb2.Timestamp
    commitment_end_time: _timestamp_pb2.Timestamp
    auto_renew: bool
    parent_subscription_id: str
    etag: str
    unit_term_price: _money_pb2.Money
    next_term: NextTerm
    expiry_reason: ExpiryReason
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., catalog_item_id: _Optional[str] = ..., product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., title: _Optional[str] = ..., quantity: _Optional[int] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., status: _Optional[_Union[SubscriptionStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., commitment_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., auto_renew: _Optional[bool] = ..., parent_subscription_id: _Optional[str] = ..., etag: _Optional[str] = ..., unit_term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., next_term: _Optional[_Union[NextTerm, _Mapping]] = ..., expiry_reason: _Optional[_Union[ExpiryReason, str]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("customer_id", "status", "create_time_from", "create_time_to", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FROM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    status: OrderStatus
    create_time_from: _timestamp_pb2.Timestamp
    create_time_to: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., create_time_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("request_id", "order_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    order_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., order_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ("customer_id", "status", "product_id", "parent_subscription_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    status: SubscriptionStatus
    product_id: str
    parent_subscription_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., status: _Optional[_Union[SubscriptionStatus, str]] = ..., product_id: _Optional[str] = ..., parent_subscription_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions", "next_page_token")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    next_page_token: str
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ("subscription_id",)
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    def __init__(self, subscription_id: _Optional[str] = ...) -> None: ...

class GetSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class CancelSubscriptionRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class CancelSubscriptionResponse(_message.Message):
    __slots__ = ("subscription", "transactions")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    transactions: _containers.RepeatedCompositeFieldContainer[SubscriptionTransaction]
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., transactions: _Optional[_Iterable[_Union[SubscriptionTransaction, _Mapping]]] = ...) -> None: ...

class ListSubscriptionTransactionsRequest(_message.Message):
    __slots__ = ("subscription_id", "page_size", "page_token")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    page_size: int
    page_token: str
    def __init__(self, subscription_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSubscriptionTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "next_page_token")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[SubscriptionTransaction]
    next_page_token: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[SubscriptionTransaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ChangeSubscriptionQuantityRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag", "quantity")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    quantity: int
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class ChangeSubscriptionQuantityResponse(_message.Message):
    __slots__ = ("subscription", "transaction")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    transaction: SubscriptionTransaction
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., transaction: _Optional[_Union[SubscriptionTransaction, _Mapping]] = ...) -> None: ...

class ConvertTrialSubscriptionRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag", "catalog_item_id", "term", "billing_cycle", "quantity")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    catalog_item_id: str
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    quantity: int
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ..., catalog_item_id: _Optional[str] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., quantity: _Optional[int] = ...) -> None: ...

class ConvertTrialSubscriptionResponse(_message.Message):
    __slots__ = ("subscription", "transaction")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    transaction: SubscriptionTransaction
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., transaction: _Optional[_Union[SubscriptionTransaction, _Mapping]] = ...) -> None: ...

class SuspendSubscriptionRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class SuspendSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class ReactivateSubscriptionRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ReactivateSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class SetSubscriptionAutoRenewRequest(_message.Message):
    __slots__ = ("request_id", "subscription_id", "etag", "auto_renew")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    AUTO_RENEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    etag: str
    auto_renew: bool
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., etag: _Optional[str] = ..., auto_renew: _Optional[bool] = ...) -> None: ...

class SetSubscriptionAutoRenewResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...
