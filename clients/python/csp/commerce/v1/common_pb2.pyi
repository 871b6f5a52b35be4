from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Segment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEGMENT_UNSPECIFIED: _ClassVar[Segment]
    SEGMENT_COMMERCIAL: _ClassVar[Segment]
    SEGMENT_EDUCATION: _ClassVar[Segment]
    SEGMENT_GOVERNMENT: _ClassVar[Segment]
    SEGMENT_NONPROFIT: _ClassVar[Segment]

class ProductType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_TYPE_UNSPECIFIED: _ClassVar[ProductType]
    PRODUCT_TYPE_ONLINE_SERVICES: _ClassVar[ProductType]
    PRODUCT_TYPE_AZURE: _ClassVar[ProductType]
    PRODUCT_TYPE_SOFTWARE: _ClassVar[ProductType]
    PRODUCT_TYPE_MARKETPLACE: _ClassVar[ProductType]

class BillingType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_TYPE_UNSPECIFIED: _ClassVar[BillingType]
    BILLING_TYPE_LICENSE: _ClassVar[BillingType]
    BILLING_TYPE_USAGE: _ClassVar[BillingType]

class TermDuration(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TERM_DURATION_UNSPECIFIED: _ClassVar[TermDuration]
    TERM_DURATION_P1M: _ClassVar[TermDuration]
    TERM_DURATION_P1Y: _ClassVar[TermDuration]
    TERM_DURATION_P3Y: _ClassVar[TermDuration]
    TERM_DURATION_NONE: _ClassVar[TermDuration]

class BillingCycle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_CYCLE_UNSPECIFIED: _ClassVar[BillingCycle]
    BILLING_CYCLE_MONTHLY: _ClassVar[BillingCycle]
    BILLING_CYCLE_ANNUAL: _ClassVar[BillingCycle]
    BILLING_CYCLE_TRIENNIAL: _ClassVar[BillingCycle]
    BILLING_CYCLE_ONE_TIME: _ClassVar[BillingCycle]
    BILLING_CYCLE_NONE: _ClassVar[BillingCycle]
SEGMENT_UNSPECIFIED: Segment
SEGMENT_COMMERCIAL: Segment
SEGMENT_EDUCATION: Segment
SEGMENT_GOVERNMENT: Segment
SEGMENT_NONPROFIT: Segment
PRODUCT_TYPE_UNSPECIFIED: ProductType
PRODUCT_TYPE_ONLINE_SERVICES: ProductType
PRODUCT_TYPE_AZURE: ProductType
PRODUCT_TYPE_SOFTWARE: ProductType
PRODUCT_TYPE_MARKETPLACE: ProductType
BILLING_TYPE_UNSPECIFIED: BillingType
BILLING_TYPE_LICENSE: BillingType
BILLING_TYPE_USAGE: BillingType
TERM_DURATION_UNSPECIFIED: TermDuration
TERM_DURATION_P1M: TermDuration
TERM_DURATION_P1Y: TermDuration
TERM_DURATION_P3Y: TermDuration
TERM_DURATION_NONE: TermDuration
BILLING_CYCLE_UNSPECIFIED: BillingCycle
BILLING_CYCLE_MONTHLY: BillingCycle
BILLING_CYCLE_ANNUAL: BillingCycle
BILLING_CYCLE_TRIENNIAL: BillingCycle
BILLING_CYCLE_ONE_TIME: BillingCycle
BILLING_CYCLE_NONE: BillingCycle

class Money(_message.Message):
    __slots__ = ("currency_code", "units", "nanos")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    NANOS_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    units: int
    nanos: int
    def __init__(self, currency_code: _Optional[str] = ..., units: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...

class PurchaseProblem(_message.Message):
    __slots__ = ("code", "message", "field", "figures")
    class FiguresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    field: str
    figures: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., field: _Optional[str] = ..., figures: _Optional[_Mapping[str, str]] = ...) -> None: ...
