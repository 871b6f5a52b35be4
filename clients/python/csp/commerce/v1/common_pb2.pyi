from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

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

class ProblemCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROBLEM_CODE_UNSPECIFIED: _ClassVar[ProblemCode]
    PROBLEM_CODE_COUNTRY_NOT_SOLD_TO_PARTNER: _ClassVar[ProblemCode]
    PROBLEM_CODE_COUNTRY_NOT_SOLD_TO_CUSTOMER: _ClassVar[ProblemCode]
    PROBLEM_CODE_AVAILABILITY_COUNTRY_MISMATCH: _ClassVar[ProblemCode]
    PROBLEM_CODE_SEGMENT_NOT_ALLOWED: _ClassVar[ProblemCode]
    PROBLEM_CODE_GCC_PARTNER_REQUIRED: _ClassVar[ProblemCode]
    PROBLEM_CODE_ADDON_BASE_MISSING: _ClassVar[ProblemCode]
    PROBLEM_CODE_ADDON_QUANTITY_EXCEEDS_BASE: _ClassVar[ProblemCode]
    PROBLEM_CODE_NOT_IN_CURRENT_PRICE_LIST: _ClassVar[ProblemCode]
    PROBLEM_CODE_END_OF_SALE: _ClassVar[ProblemCode]
    PROBLEM_CODE_AGREEMENT_NOT_ACCEPTED: _ClassVar[ProblemCode]
    PROBLEM_CODE_QUANTITY_BELOW_MINIMUM: _ClassVar[ProblemCode]
    PROBLEM_CODE_QUANTITY_ABOVE_MAXIMUM: _ClassVar[ProblemCode]
    PROBLEM_CODE_SEAT_LIMIT_EXCEEDED: _ClassVar[ProblemCode]
    PROBLEM_CODE_TRIAL_LIMIT_REACHED: _ClassVar[ProblemCode]
    PROBLEM_CODE_ROLE_CANNOT_PURCHASE: _ClassVar[ProblemCode]
    PROBLEM_CODE_TERM_NOT_OFFERED: _ClassVar[ProblemCode]
    PROBLEM_CODE_BILLING_CYCLE_NOT_OFFERED: _ClassVar[ProblemCode]
    PROBLEM_CODE_PROVISIONING_CONTEXT_MISSING: _ClassVar[ProblemCode]
    PROBLEM_CODE_DUPLICATE_SKU_IN_CART: _ClassVar[ProblemCode]
    PROBLEM_CODE_ADDON_PARENT_INVALID: _ClassVar[ProblemCode]
    PROBLEM_CODE_PARENT_ON_NON_ADDON: _ClassVar[ProblemCode]
    PROBLEM_CODE_CART_EMPTY: _ClassVar[ProblemCode]
    PROBLEM_CODE_TOTAL_OUT_OF_RANGE: _ClassVar[ProblemCode]
    PROBLEM_CODE_CART_ORDERED: _ClassVar[ProblemCode]
    PROBLEM_CODE_CART_EXPIRED: _ClassVar[ProblemCode]
    PROBLEM_CODE_MIXED_CURRENCIES: _ClassVar[ProblemCode]
    PROBLEM_CODE_ORDER_ALREADY_CANCELLED: _ClassVar[ProblemCode]
    PROBLEM_CODE_CANCELLATION_WINDOW_CLOSED: _ClassVar[ProblemCode]
    PROBLEM_CODE_SUBSCRIPTION_NOT_ACTIVE: _ClassVar[ProblemCode]
    PROBLEM_CODE_QUANTITY_DECREASE_WINDOW_CLOSED: _ClassVar[ProblemCode]
    PROBLEM_CODE_SUSPENSION_NOT_ALLOWED: _ClassVar[ProblemCode]
    PROBLEM_CODE_SUBSCRIPTION_NOT_SUSPENDED: _ClassVar[ProblemCode]
    PROBLEM_CODE_AUTO_RENEW_NOT_ALLOWED: _ClassVar[ProblemCode]
    PROBLEM_CODE_NEXT_TERM_NOT_AVAILABLE: _ClassVar[ProblemCode]
    PROBLEM_CODE_NEXT_TERM_NOT_ALLOWED: _ClassVar[ProblemCode]
    PROBLEM_CODE_NO_CURRENT_MONTH: _ClassVar[ProblemCode]
    PROBLEM_CODE_SUBSCRIPTION_LIMIT_REACHED: _ClassVar[ProblemCode]
    PROBLEM_CODE_NOT_A_TRIAL: _ClassVar[ProblemCode]
    PROBLEM_CODE_CONVERSION_TARGET_NOT_ALLOWED: _ClassVar[ProblemCode]
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
PROBLEM_CODE_UNSPECIFIED: ProblemCode
PROBLEM_CODE_COUNTRY_NOT_SOLD_TO_PARTNER: ProblemCode
PROBLEM_CODE_COUNTRY_NOT_SOLD_TO_CUSTOMER: ProblemCode
PROBLEM_CODE_AVAILABILITY_COUNTRY_MISMATCH: ProblemCode
PROBLEM_CODE_SEGMENT_NOT_ALLOWED: ProblemCode
PROBLEM_CODE_GCC_PARTNER_REQUIRED: ProblemCode
PROBLEM_CODE_ADDON_BASE_MISSING: ProblemCode
PROBLEM_CODE_ADDON_QUANTITY_EXCEEDS_BASE: ProblemCode
PROBLEM_CODE_NOT_IN_CURRENT_PRICE_LIST: ProblemCode
PROBLEM_CODE_END_OF_SALE: ProblemCode
PROBLEM_CODE_AGREEMENT_NOT_ACCEPTED: ProblemCode
PROBLEM_CODE_QUANTITY_BELOW_MINIMUM: ProblemCode
PROBLEM_CODE_QUANTITY_ABOVE_MAXIMUM: ProblemCode
PROBLEM_CODE_SEAT_LIMIT_EXCEEDED: ProblemCode
PROBLEM_CODE_TRIAL_LIMIT_REACHED: ProblemCode
PROBLEM_CODE_ROLE_CANNOT_PURCHASE: ProblemCode
PROBLEM_CODE_TERM_NOT_OFFERED: ProblemCode
PROBLEM_CODE_BILLING_CYCLE_NOT_OFFERED: ProblemCode
PROBLEM_CODE_PROVISIONING_CONTEXT_MISSING: ProblemCode
PROBLEM_CODE_DUPLICATE_SKU_IN_CART: ProblemCode
PROBLEM_CODE_ADDON_PARENT_INVALID: ProblemCode
PROBLEM_CODE_PARENT_ON_NON_ADDON: ProblemCode
PROBLEM_CODE_CART_EMPTY: ProblemCode
PROBLEM_CODE_TOTAL_OUT_OF_RANGE: ProblemCode
PROBLEM_CODE_CART_ORDERED: ProblemCode
PROBLEM_CODE_CART_EXPIRED: ProblemCode
PROBLEM_CODE_MIXED_CURRENCIES: ProblemCode
PROBLEM_CODE_ORDER_ALREADY_CANCELLED: ProblemCode
PROBLEM_CODE_CANCELLATION_WINDOW_CLOSED: ProblemCode
PROBLEM_CODE_SUBSCRIPTION_NOT_ACTIVE: ProblemCode
PROBLEM_CODE_QUANTITY_DECREASE_WINDOW_CLOSED: ProblemCode
PROBLEM_CODE_SUSPENSION_NOT_ALLOWED: ProblemCode
PROBLEM_CODE_SUBSCRIPTION_NOT_SUSPENDED: ProblemCode
PROBLEM_CODE_AUTO_RENEW_NOT_ALLOWED: ProblemCode
PROBLEM_CODE_NEXT_TERM_NOT_AVAILABLE: ProblemCode
PROBLEM_CODE_NEXT_TERM_NOT_ALLOWED: ProblemCode
PROBLEM_CODE_NO_CURRENT_MONTH: ProblemCode
PROBLEM_CODE_SUBSCRIPTION_LIMIT_REACHED: ProblemCode
PROBLEM_CODE_NOT_A_TRIAL: ProblemCode
PROBLEM_CODE_CONVERSION_TARGET_NOT_ALLOWED: ProblemCode

class SkuRef(_message.Message):
    __slots__ = ("product_id", "sku_id")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    sku_id: str
    def __init__(self, product_id: _Optional[str] = ..., sku_id: _Optional[str] = ...) -> None: ...

class CatalogItemRef(_message.Message):
    __slots__ = ("product_id", "sku_id", "availability_id", "catalog_item_id")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    sku_id: str
    availability_id: str
    catalog_item_id: str
    def __init__(self, product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., availability_id: _Optional[str] = ..., catalog_item_id: _Optional[str] = ...) -> None: ...

class PurchaseProblem(_message.Message):
    __slots__ = ("code", "message", "field", "figures", "prerequisites", "suggested_item")
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
    PREREQUISITES_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_ITEM_FIELD_NUMBER: _ClassVar[int]
    code: ProblemCode
    message: str
    field: str
    figures: _containers.ScalarMap[str, str]
    prerequisites: _containers.RepeatedCompositeFieldContainer[SkuRef]
    suggested_item: CatalogItemRef
    def __init__(self, code: _Optional[_Union[ProblemCode, str]] = ..., message: _Optional[str] = ..., field: _Optional[str] = ..., figures: _Optional[_Mapping[str, str]] = ..., prerequisites: _Optional[_Iterable[_Union[SkuRef, _Mapping]]] = ..., suggested_item: _Optional[_Union[CatalogItemRef, _Mapping]] = ...) -> None: ...
