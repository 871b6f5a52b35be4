import datetime

from csp.commerce.v1 import customer_pb2 as _customer_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReviewDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_DECISION_UNSPECIFIED: _ClassVar[ReviewDecision]
    REVIEW_DECISION_APPROVE: _ClassVar[ReviewDecision]
    REVIEW_DECISION_DENY: _ClassVar[ReviewDecision]

class GccStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GCC_STATUS_UNSPECIFIED: _ClassVar[GccStatus]
    GCC_STATUS_QUALIFIED: _ClassVar[GccStatus]
    GCC_STATUS_NOT_QUALIFIED: _ClassVar[GccStatus]

class PartnerRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTNER_ROLE_UNSPECIFIED: _ClassVar[PartnerRole]
    PARTNER_ROLE_GLOBAL_ADMIN: _ClassVar[PartnerRole]
    PARTNER_ROLE_ADMIN_AGENT: _ClassVar[PartnerRole]
    PARTNER_ROLE_SALES_AGENT: _ClassVar[PartnerRole]
    PARTNER_ROLE_HELPDESK_AGENT: _ClassVar[PartnerRole]
REVIEW_DECISION_UNSPECIFIED: ReviewDecision
REVIEW_DECISION_APPROVE: ReviewDecision
REVIEW_DECISION_DENY: ReviewDecision
GCC_STATUS_UNSPECIFIED: GccStatus
GCC_STATUS_QUALIFIED: GccStatus
GCC_STATUS_NOT_QUALIFIED: GccStatus
PARTNER_ROLE_UNSPECIFIED: PartnerRole
PARTNER_ROLE_GLOBAL_ADMIN: PartnerRole
PARTNER_ROLE_ADMIN_AGENT: PartnerRole
PARTNER_ROLE_SALES_AGENT: PartnerRole
PARTNER_ROLE_HELPDESK_AGENT: PartnerRole

class RunRenewalsRequest(_message.Message):
    __slots__ = ("until",)
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    until: _timestamp_pb2.Timestamp
    def __init__(self, until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunRenewalsResponse(_message.Message):
    __slots__ = ("renewed", "expired")
    RENEWED_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    renewed: int
    expired: int
    def __init__(self, renewed: _Optional[int] = ..., expired: _Optional[int] = ...) -> None: ...

class QualificationReview(_message.Message):
    __slots__ = ("partner_id", "customer_id", "company_name", "customer_country", "qualification")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    QUALIFICATION_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    customer_id: str
    company_name: str
    customer_country: str
    qualification: _customer_pb2.Qualification
    def __init__(self, partner_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., company_name: _Optional[str] = ..., customer_country: _Optional[str] = ..., qualification: _Optional[_Union[_customer_pb2.Qualification, _Mapping]] = ...) -> None: ...

class ListQualificationReviewsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListQualificationReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[QualificationReview]
    next_page_token: str
    def __init__(self, reviews: _Optional[_Iterable[_Union[QualificationReview, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReviewQualificationRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "etag", "kind", "decision", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    etag: str
    kind: _customer_pb2.QualificationKind
    decision: ReviewDecision
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., etag: _Optional[str] = ..., kind: _Optional[_Union[_customer_pb2.QualificationKind, str]] = ..., decision: _Optional[_Union[ReviewDecision, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReviewQualificationResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _customer_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_customer_pb2.Customer, _Mapping]] = ...) -> None: ...

class SetNonprofitRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "etag", "decision", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    etag: str
    decision: ReviewDecision
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., etag: _Optional[str] = ..., decision: _Optional[_Union[ReviewDecision, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetNonprofitResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _customer_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_customer_pb2.Customer, _Mapping]] = ...) -> None: ...

class Partner(_message.Message):
    __slots__ = ("id", "key", "name", "country", "currency", "gcc_status", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GCC_STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    key: str
    name: str
    country: str
    currency: str
    gcc_status: GccStatus
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., key: _Optional[str] = ..., name: _Optional[str] = ..., country: _Optional[str] = ..., currency: _Optional[str] = ..., gcc_status: _Optional[_Union[GccStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class RegisterPartnerRequest(_message.Message):
    __slots__ = ("request_id", "name", "country", "currency", "gcc_status", "key")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GCC_STATUS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    country: str
    currency: str
    gcc_status: GccStatus
    key: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., country: _Optional[str] = ..., currency: _Optional[str] = ..., gcc_status: _Optional[_Union[GccStatus, str]] = ..., key: _Optional[str] = ...) -> None: ...

class RegisterPartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: Partner
    def __init__(self, partner: _Optional[_Union[Partner, _Mapping]] = ...) -> None: ...

class GetPartnerRequest(_message.Message):
    __slots__ = ("partner_id",)
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    def __init__(self, partner_id: _Optional[str] = ...) -> None: ...

class GetPartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: Partner
    def __init__(self, partner: _Optional[_Union[Partner, _Mapping]] = ...) -> None: ...

class ListPartnersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPartnersResponse(_message.Message):
    __slots__ = ("partners", "next_page_token")
    PARTNERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    partners: _containers.RepeatedCompositeFieldContainer[Partner]
    next_page_token: str
    def __init__(self, partners: _Optional[_Iterable[_Union[Partner, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdatePartnerRequest(_message.Message):
    __slots__ = ("request_id", "partner_id", "etag", "name", "gcc_status")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GCC_STATUS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    partner_id: str
    etag: str
    name: str
    gcc_status: GccStatus
    def __init__(self, request_id: _Optional[str] = ..., partner_id: _Optional[str] = ..., etag: _Optional[str] = ..., name: _Optional[str] = ..., gcc_status: _Optional[_Union[GccStatus, str]] = ...) -> None: ...

class UpdatePartnerResponse(_message.Message):
    __slots__ = ("partner",)
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    partner: Partner
    def __init__(self, partner: _Optional[_Union[Partner, _Mapping]] = ...) -> None: ...

class MintTokenRequest(_message.Message):
    __slots__ = ("partner_id", "role", "user", "lifetime_seconds")
    PARTNER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    partner_id: str
    role: PartnerRole
    user: str
    lifetime_seconds: int
    def __init__(self, partner_id: _Optional[str] = ..., role: _Optional[_Union[PartnerRole, str]] = ..., user: _Optional[str] = ..., lifetime_seconds: _Optional[int] = ...) -> None: ...

class MintTokenResponse(_message.Message):
    __slots__ = ("token", "expire_time")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    token: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
