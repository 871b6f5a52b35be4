import datetime

from csp.commerce.v1 import catalog_pb2 as _catalog_pb2
from csp.commerce.v1 import order_pb2 as _order_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscriptionEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_EVENT_TYPE_UNSPECIFIED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_CREATED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_QUANTITY_CHANGED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_RENEWED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_EXPIRED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_CANCELLED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_SUSPENDED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_REACTIVATED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_CONVERTED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_AUTO_RENEW_CHANGED: _ClassVar[SubscriptionEventType]
    SUBSCRIPTION_EVENT_TYPE_NEXT_TERM_SCHEDULED: _ClassVar[SubscriptionEventType]
SUBSCRIPTION_EVENT_TYPE_UNSPECIFIED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_CREATED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_QUANTITY_CHANGED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_RENEWED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_EXPIRED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_CANCELLED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_SUSPENDED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_REACTIVATED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_CONVERTED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_AUTO_RENEW_CHANGED: SubscriptionEventType
SUBSCRIPTION_EVENT_TYPE_NEXT_TERM_SCHEDULED: SubscriptionEventType

class SubscriptionEvent(_message.Message):
    __slots__ = ("revision", "type", "subscription_id", "customer_id", "event_time", "subscription", "transaction")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    type: SubscriptionEventType
    subscription_id: str
    customer_id: str
    event_time: _timestamp_pb2.Timestamp
    subscription: _order_pb2.Subscription
    transaction: _order_pb2.SubscriptionTransaction
    def __init__(self, revision: _Optional[int] = ..., type: _Optional[_Union[SubscriptionEventType, str]] = ..., subscription_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subscription: _Optional[_Union[_order_pb2.Subscription, _Mapping]] = ..., transaction: _Optional[_Union[_order_pb2.SubscriptionTransaction, _Mapping]] = ...) -> None: ...

class SubscriptionEventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[SubscriptionEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[SubscriptionEvent, _Mapping]]] = ...) -> None: ...

class WatchSubscriptionEventsRequest(_message.Message):
    __slots__ = ("after_revision", "from_now", "customer_id")
    AFTER_REVISION_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    after_revision: int
    from_now: bool
    customer_id: str
    def __init__(self, after_revision: _Optional[int] = ..., from_now: _Optional[bool] = ..., customer_id: _Optional[str] = ...) -> None: ...

class WatchSubscriptionEventsResponse(_message.Message):
    __slots__ = ("events", "progress")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    events: SubscriptionEventBatch
    progress: _catalog_pb2.WatchProgress
    def __init__(self, events: _Optional[_Union[SubscriptionEventBatch, _Mapping]] = ..., progress: _Optional[_Union[_catalog_pb2.WatchProgress, _Mapping]] = ...) -> None: ...
