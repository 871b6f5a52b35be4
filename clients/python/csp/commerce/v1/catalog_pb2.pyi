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

class CatalogView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATALOG_VIEW_UNSPECIFIED: _ClassVar[CatalogView]
    CATALOG_VIEW_PRODUCT: _ClassVar[CatalogView]
    CATALOG_VIEW_SKU: _ClassVar[CatalogView]
    CATALOG_VIEW_SKU_WITH_COUNTRIES: _ClassVar[CatalogView]

class PublisherFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUBLISHER_FILTER_UNSPECIFIED: _ClassVar[PublisherFilter]
    PUBLISHER_FILTER_MICROSOFT: _ClassVar[PublisherFilter]
    PUBLISHER_FILTER_THIRD_PARTY: _ClassVar[PublisherFilter]

class TrialFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIAL_FILTER_UNSPECIFIED: _ClassVar[TrialFilter]
    TRIAL_FILTER_ONLY_TRIALS: _ClassVar[TrialFilter]
    TRIAL_FILTER_NO_TRIALS: _ClassVar[TrialFilter]

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_KIND_UNSPECIFIED: _ClassVar[ChangeKind]
    CHANGE_KIND_ADDED: _ClassVar[ChangeKind]
    CHANGE_KIND_CHANGED: _ClassVar[ChangeKind]
    CHANGE_KIND_ENDED: _ClassVar[ChangeKind]

class ImportFileKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_FILE_KIND_UNSPECIFIED: _ClassVar[ImportFileKind]
    IMPORT_FILE_KIND_OFFER_MATRIX: _ClassVar[ImportFileKind]
    IMPORT_FILE_KIND_PRICE_LIST: _ClassVar[ImportFileKind]
CATALOG_VIEW_UNSPECIFIED: CatalogView
CATALOG_VIEW_PRODUCT: CatalogView
CATALOG_VIEW_SKU: CatalogView
CATALOG_VIEW_SKU_WITH_COUNTRIES: CatalogView
PUBLISHER_FILTER_UNSPECIFIED: PublisherFilter
PUBLISHER_FILTER_MICROSOFT: PublisherFilter
PUBLISHER_FILTER_THIRD_PARTY: PublisherFilter
TRIAL_FILTER_UNSPECIFIED: TrialFilter
TRIAL_FILTER_ONLY_TRIALS: TrialFilter
TRIAL_FILTER_NO_TRIALS: TrialFilter
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_ADDED: ChangeKind
CHANGE_KIND_CHANGED: ChangeKind
CHANGE_KIND_ENDED: ChangeKind
IMPORT_FILE_KIND_UNSPECIFIED: ImportFileKind
IMPORT_FILE_KIND_OFFER_MATRIX: ImportFileKind
IMPORT_FILE_KIND_PRICE_LIST: ImportFileKind

class Product(_message.Message):
    __slots__ = ("id", "title", "description", "product_type", "publisher", "is_microsoft", "billing_type", "category", "sku_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    IS_MICROSOFT_FIELD_NUMBER: _ClassVar[int]
    BILLING_TYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SKU_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    product_type: _common_pb2.ProductType
    publisher: str
    is_microsoft: bool
    billing_type: _common_pb2.BillingType
    category: str
    sku_count: int
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., product_type: _Optional[_Union[_common_pb2.ProductType, str]] = ..., publisher: _Optional[str] = ..., is_microsoft: _Optional[bool] = ..., billing_type: _Optional[_Union[_common_pb2.BillingType, str]] = ..., category: _Optional[str] = ..., sku_count: _Optional[int] = ...) -> None: ...

class Sku(_message.Message):
    __slots__ = ("product_id", "id", "title", "description", "product_title", "min_quantity", "max_quantity", "is_trial", "is_addon", "prerequisites", "seat_limit", "seat_limit_type", "unit_of_measure", "provisioning_variables", "countries", "billing_cycles", "product_type", "publisher", "conversion_targets", "concurrent_limit", "lifetime_limit")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    MIN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MAX_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    IS_TRIAL_FIELD_NUMBER: _ClassVar[int]
    IS_ADDON_FIELD_NUMBER: _ClassVar[int]
    PREREQUISITES_FIELD_NUMBER: _ClassVar[int]
    SEAT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SEAT_LIMIT_TYPE_FIELD_NUMBER: _ClassVar[int]
    UNIT_OF_MEASURE_FIELD_NUMBER: _ClassVar[int]
    PROVISIONING_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLES_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_TARGETS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_LIMIT_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    id: str
    title: str
    description: str
    product_title: str
    min_quantity: int
    max_quantity: int
    is_trial: bool
    is_addon: bool
    prerequisites: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuRef]
    seat_limit: int
    seat_limit_type: str
    unit_of_measure: str
    provisioning_variables: _containers.RepeatedScalarFieldContainer[str]
    countries: _containers.RepeatedScalarFieldContainer[str]
    billing_cycles: _containers.RepeatedScalarFieldContainer[_common_pb2.BillingCycle]
    product_type: _common_pb2.ProductType
    publisher: str
    conversion_targets: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuRef]
    concurrent_limit: int
    lifetime_limit: int
    def __init__(self, product_id: _Optional[str] = ..., id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., product_title: _Optional[str] = ..., min_quantity: _Optional[int] = ..., max_quantity: _Optional[int] = ..., is_trial: _Optional[bool] = ..., is_addon: _Optional[bool] = ..., prerequisites: _Optional[_Iterable[_Union[_common_pb2.SkuRef, _Mapping]]] = ..., seat_limit: _Optional[int] = ..., seat_limit_type: _Optional[str] = ..., unit_of_measure: _Optional[str] = ..., provisioning_variables: _Optional[_Iterable[str]] = ..., countries: _Optional[_Iterable[str]] = ..., billing_cycles: _Optional[_Iterable[_Union[_common_pb2.BillingCycle, str]]] = ..., product_type: _Optional[_Union[_common_pb2.ProductType, str]] = ..., publisher: _Optional[str] = ..., conversion_targets: _Optional[_Iterable[_Union[_common_pb2.SkuRef, _Mapping]]] = ..., concurrent_limit: _Optional[int] = ..., lifetime_limit: _Optional[int] = ...) -> None: ...

class TermPrice(_message.Message):
    __slots__ = ("term", "billing_cycle", "term_price", "erp_price", "effective_start", "effective_end", "billing_period_charge", "billing_periods")
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    ERP_PRICE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_START_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_END_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIOD_CHARGE_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIODS_FIELD_NUMBER: _ClassVar[int]
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    term_price: _money_pb2.Money
    erp_price: _money_pb2.Money
    effective_start: _timestamp_pb2.Timestamp
    effective_end: _timestamp_pb2.Timestamp
    billing_period_charge: _money_pb2.Money
    billing_periods: int
    def __init__(self, term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., erp_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., effective_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., effective_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., billing_period_charge: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., billing_periods: _Optional[int] = ...) -> None: ...

class Availability(_message.Message):
    __slots__ = ("id", "product_id", "sku_id", "catalog_item_id", "country", "segment", "currency_code", "terms", "price_list_month", "end_of_sale")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_OF_SALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    product_id: str
    sku_id: str
    catalog_item_id: str
    country: str
    segment: _common_pb2.Segment
    currency_code: str
    terms: _containers.RepeatedCompositeFieldContainer[TermPrice]
    price_list_month: str
    end_of_sale: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., catalog_item_id: _Optional[str] = ..., country: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., currency_code: _Optional[str] = ..., terms: _Optional[_Iterable[_Union[TermPrice, _Mapping]]] = ..., price_list_month: _Optional[str] = ..., end_of_sale: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CatalogFilter(_message.Message):
    __slots__ = ("country", "segment", "product_type", "publisher", "billing_type", "category", "trial", "text", "purchasable_by_customer_id")
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    BILLING_TYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TRIAL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PURCHASABLE_BY_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    country: str
    segment: _common_pb2.Segment
    product_type: _common_pb2.ProductType
    publisher: PublisherFilter
    billing_type: _common_pb2.BillingType
    category: str
    trial: TrialFilter
    text: str
    purchasable_by_customer_id: str
    def __init__(self, country: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., product_type: _Optional[_Union[_common_pb2.ProductType, str]] = ..., publisher: _Optional[_Union[PublisherFilter, str]] = ..., billing_type: _Optional[_Union[_common_pb2.BillingType, str]] = ..., category: _Optional[str] = ..., trial: _Optional[_Union[TrialFilter, str]] = ..., text: _Optional[str] = ..., purchasable_by_customer_id: _Optional[str] = ...) -> None: ...

class ListProductsRequest(_message.Message):
    __slots__ = ("filter", "view", "page_size", "page_token", "month")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    filter: CatalogFilter
    view: CatalogView
    page_size: int
    page_token: str
    month: str
    def __init__(self, filter: _Optional[_Union[CatalogFilter, _Mapping]] = ..., view: _Optional[_Union[CatalogView, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ListProductsResponse(_message.Message):
    __slots__ = ("products", "skus", "next_page_token", "total_size")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    skus: _containers.RepeatedCompositeFieldContainer[Sku]
    next_page_token: str
    total_size: int
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ..., skus: _Optional[_Iterable[_Union[Sku, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetProductRequest(_message.Message):
    __slots__ = ("product_id", "month")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    month: str
    def __init__(self, product_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class GetProductResponse(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: Product
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class ListSkusRequest(_message.Message):
    __slots__ = ("product_id", "country", "segment", "page_size", "page_token", "month")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    country: str
    segment: _common_pb2.Segment
    page_size: int
    page_token: str
    month: str
    def __init__(self, product_id: _Optional[str] = ..., country: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ListSkusResponse(_message.Message):
    __slots__ = ("skus", "next_page_token")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedCompositeFieldContainer[Sku]
    next_page_token: str
    def __init__(self, skus: _Optional[_Iterable[_Union[Sku, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSkuRequest(_message.Message):
    __slots__ = ("product_id", "sku_id", "month")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    sku_id: str
    month: str
    def __init__(self, product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class GetSkuResponse(_message.Message):
    __slots__ = ("sku",)
    SKU_FIELD_NUMBER: _ClassVar[int]
    sku: Sku
    def __init__(self, sku: _Optional[_Union[Sku, _Mapping]] = ...) -> None: ...

class ListAvailabilitiesRequest(_message.Message):
    __slots__ = ("product_id", "sku_id", "country", "segment", "page_size", "page_token", "customer_id", "month")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    sku_id: str
    country: str
    segment: _common_pb2.Segment
    page_size: int
    page_token: str
    customer_id: str
    month: str
    def __init__(self, product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., country: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ListAvailabilitiesResponse(_message.Message):
    __slots__ = ("availabilities", "next_page_token")
    AVAILABILITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    availabilities: _containers.RepeatedCompositeFieldContainer[Availability]
    next_page_token: str
    def __init__(self, availabilities: _Optional[_Iterable[_Union[Availability, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class OfferFilter(_message.Message):
    __slots__ = ("segment", "product_type", "publisher", "billing_type", "category", "trial", "text")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    BILLING_TYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TRIAL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    segment: _common_pb2.Segment
    product_type: _common_pb2.ProductType
    publisher: PublisherFilter
    billing_type: _common_pb2.BillingType
    category: str
    trial: TrialFilter
    text: str
    def __init__(self, segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., product_type: _Optional[_Union[_common_pb2.ProductType, str]] = ..., publisher: _Optional[_Union[PublisherFilter, str]] = ..., billing_type: _Optional[_Union[_common_pb2.BillingType, str]] = ..., category: _Optional[str] = ..., trial: _Optional[_Union[TrialFilter, str]] = ..., text: _Optional[str] = ...) -> None: ...

class ListOffersRequest(_message.Message):
    __slots__ = ("customer_id", "filter", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    filter: OfferFilter
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., filter: _Optional[_Union[OfferFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Offer(_message.Message):
    __slots__ = ("catalog_item_id", "product_id", "sku_id", "product_title", "sku_title", "product_type", "country", "segment", "term", "billing_cycle", "term_price", "erp_price", "min_quantity", "max_quantity", "is_trial", "is_addon", "provisioning_variables", "billing_period_charge", "billing_periods")
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SKU_TITLE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    ERP_PRICE_FIELD_NUMBER: _ClassVar[int]
    MIN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MAX_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    IS_TRIAL_FIELD_NUMBER: _ClassVar[int]
    IS_ADDON_FIELD_NUMBER: _ClassVar[int]
    PROVISIONING_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIOD_CHARGE_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIODS_FIELD_NUMBER: _ClassVar[int]
    catalog_item_id: str
    product_id: str
    sku_id: str
    product_title: str
    sku_title: str
    product_type: _common_pb2.ProductType
    country: str
    segment: _common_pb2.Segment
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    term_price: _money_pb2.Money
    erp_price: _money_pb2.Money
    min_quantity: int
    max_quantity: int
    is_trial: bool
    is_addon: bool
    provisioning_variables: _containers.RepeatedScalarFieldContainer[str]
    billing_period_charge: _money_pb2.Money
    billing_periods: int
    def __init__(self, catalog_item_id: _Optional[str] = ..., product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., product_title: _Optional[str] = ..., sku_title: _Optional[str] = ..., product_type: _Optional[_Union[_common_pb2.ProductType, str]] = ..., country: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., erp_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., min_quantity: _Optional[int] = ..., max_quantity: _Optional[int] = ..., is_trial: _Optional[bool] = ..., is_addon: _Optional[bool] = ..., provisioning_variables: _Optional[_Iterable[str]] = ..., billing_period_charge: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., billing_periods: _Optional[int] = ...) -> None: ...

class ListOffersResponse(_message.Message):
    __slots__ = ("offers", "next_page_token", "total_size", "customer_problems")
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    offers: _containers.RepeatedCompositeFieldContainer[Offer]
    next_page_token: str
    total_size: int
    customer_problems: _containers.RepeatedCompositeFieldContainer[_common_pb2.PurchaseProblem]
    def __init__(self, offers: _Optional[_Iterable[_Union[Offer, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., customer_problems: _Optional[_Iterable[_Union[_common_pb2.PurchaseProblem, _Mapping]]] = ...) -> None: ...

class ResolveCatalogItemRequest(_message.Message):
    __slots__ = ("catalog_item_id", "month")
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    catalog_item_id: str
    month: str
    def __init__(self, catalog_item_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class ResolveCatalogItemResponse(_message.Message):
    __slots__ = ("product", "sku", "availability")
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    product: Product
    sku: Sku
    availability: Availability
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ..., sku: _Optional[_Union[Sku, _Mapping]] = ..., availability: _Optional[_Union[Availability, _Mapping]] = ...) -> None: ...

class CheckPurchasabilityRequest(_message.Message):
    __slots__ = ("customer_id", "catalog_item_id", "quantity", "term", "billing_cycle", "month")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    catalog_item_id: str
    quantity: int
    term: _common_pb2.TermDuration
    billing_cycle: _common_pb2.BillingCycle
    month: str
    def __init__(self, customer_id: _Optional[str] = ..., catalog_item_id: _Optional[str] = ..., quantity: _Optional[int] = ..., term: _Optional[_Union[_common_pb2.TermDuration, str]] = ..., billing_cycle: _Optional[_Union[_common_pb2.BillingCycle, str]] = ..., month: _Optional[str] = ...) -> None: ...

class CheckPurchasabilityResponse(_message.Message):
    __slots__ = ("purchasable", "problems", "unit_term_price", "term_price", "billing_period_charge", "billing_periods")
    PURCHASABLE_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    UNIT_TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    TERM_PRICE_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIOD_CHARGE_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIODS_FIELD_NUMBER: _ClassVar[int]
    purchasable: bool
    problems: _containers.RepeatedCompositeFieldContainer[_common_pb2.PurchaseProblem]
    unit_term_price: _money_pb2.Money
    term_price: _money_pb2.Money
    billing_period_charge: _money_pb2.Money
    billing_periods: int
    def __init__(self, purchasable: _Optional[bool] = ..., problems: _Optional[_Iterable[_Union[_common_pb2.PurchaseProblem, _Mapping]]] = ..., unit_term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., term_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., billing_period_charge: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., billing_periods: _Optional[int] = ...) -> None: ...

class FieldChange(_message.Message):
    __slots__ = ("field", "before", "after")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    field: str
    before: str
    after: str
    def __init__(self, field: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ...) -> None: ...

class CatalogChange(_message.Message):
    __slots__ = ("revision", "month", "kind", "product_id", "sku_id", "availability_id", "country", "segment", "product_type", "changes")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    revision: int
    month: str
    kind: ChangeKind
    product_id: str
    sku_id: str
    availability_id: str
    country: str
    segment: _common_pb2.Segment
    product_type: _common_pb2.ProductType
    changes: _containers.RepeatedCompositeFieldContainer[FieldChange]
    def __init__(self, revision: _Optional[int] = ..., month: _Optional[str] = ..., kind: _Optional[_Union[ChangeKind, str]] = ..., product_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., availability_id: _Optional[str] = ..., country: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.Segment, str]] = ..., product_type: _Optional[_Union[_common_pb2.ProductType, str]] = ..., changes: _Optional[_Iterable[_Union[FieldChange, _Mapping]]] = ...) -> None: ...

class WatchCatalogChangesRequest(_message.Message):
    __slots__ = ("after_revision", "from_now", "countries", "segments", "product_types", "product_ids")
    AFTER_REVISION_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPES_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    after_revision: int
    from_now: bool
    countries: _containers.RepeatedScalarFieldContainer[str]
    segments: _containers.RepeatedScalarFieldContainer[_common_pb2.Segment]
    product_types: _containers.RepeatedScalarFieldContainer[_common_pb2.ProductType]
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, after_revision: _Optional[int] = ..., from_now: _Optional[bool] = ..., countries: _Optional[_Iterable[str]] = ..., segments: _Optional[_Iterable[_Union[_common_pb2.Segment, str]]] = ..., product_types: _Optional[_Iterable[_Union[_common_pb2.ProductType, str]]] = ..., product_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CatalogChangeBatch(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[CatalogChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[CatalogChange, _Mapping]]] = ...) -> None: ...

class WatchProgress(_message.Message):
    __slots__ = ("current_revision",)
    CURRENT_REVISION_FIELD_NUMBER: _ClassVar[int]
    current_revision: int
    def __init__(self, current_revision: _Optional[int] = ...) -> None: ...

class WatchCatalogChangesResponse(_message.Message):
    __slots__ = ("changes", "progress")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    changes: CatalogChangeBatch
    progress: WatchProgress
    def __init__(self, changes: _Optional[_Union[CatalogChangeBatch, _Mapping]] = ..., progress: _Optional[_Union[WatchProgress, _Mapping]] = ...) -> None: ...

class ImportMonthRequest(_message.Message):
    __slots__ = ("request_id", "month", "offer_matrix_path", "price_list_paths")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    OFFER_MATRIX_PATH_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_PATHS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    month: str
    offer_matrix_path: str
    price_list_paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., month: _Optional[str] = ..., offer_matrix_path: _Optional[str] = ..., price_list_paths: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportFile(_message.Message):
    __slots__ = ("name", "kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ImportFileKind
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ImportFileKind, str]] = ...) -> None: ...

class UploadMonthHeader(_message.Message):
    __slots__ = ("request_id", "month", "files")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    month: str
    files: _containers.RepeatedCompositeFieldContainer[ImportFile]
    def __init__(self, request_id: _Optional[str] = ..., month: _Optional[str] = ..., files: _Optional[_Iterable[_Union[ImportFile, _Mapping]]] = ...) -> None: ...

class UploadMonthChunk(_message.Message):
    __slots__ = ("file_index", "data")
    FILE_INDEX_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    file_index: int
    data: bytes
    def __init__(self, file_index: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadMonthRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadMonthHeader
    chunk: UploadMonthChunk
    def __init__(self, header: _Optional[_Union[UploadMonthHeader, _Mapping]] = ..., chunk: _Optional[_Union[UploadMonthChunk, _Mapping]] = ...) -> None: ...

class ImportMonthResponse(_message.Message):
    __slots__ = ("month", "products", "skus", "availabilities", "prices")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITIES_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    month: str
    products: int
    skus: int
    availabilities: int
    prices: int
    def __init__(self, month: _Optional[str] = ..., products: _Optional[int] = ..., skus: _Optional[int] = ..., availabilities: _Optional[int] = ..., prices: _Optional[int] = ...) -> None: ...

class ListMonthChangesRequest(_message.Message):
    __slots__ = ("month", "page_size", "page_token")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    month: str
    page_size: int
    page_token: str
    def __init__(self, month: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMonthChangesResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[CatalogChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[CatalogChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PublishMonthRequest(_message.Message):
    __slots__ = ("request_id", "month")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    month: str
    def __init__(self, request_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class PublishMonthResponse(_message.Message):
    __slots__ = ("month", "first_revision", "last_revision")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    FIRST_REVISION_FIELD_NUMBER: _ClassVar[int]
    LAST_REVISION_FIELD_NUMBER: _ClassVar[int]
    month: str
    first_revision: int
    last_revision: int
    def __init__(self, month: _Optional[str] = ..., first_revision: _Optional[int] = ..., last_revision: _Optional[int] = ...) -> None: ...
