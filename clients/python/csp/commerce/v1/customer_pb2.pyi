import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QualificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALIFICATION_KIND_UNSPECIFIED: _ClassVar[QualificationKind]
    QUALIFICATION_KIND_EDUCATION: _ClassVar[QualificationKind]
    QUALIFICATION_KIND_NONPROFIT: _ClassVar[QualificationKind]
    QUALIFICATION_KIND_GCC: _ClassVar[QualificationKind]
    QUALIFICATION_KIND_STATE_OWNED_ENTITY: _ClassVar[QualificationKind]

class VettingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VETTING_STATUS_UNSPECIFIED: _ClassVar[VettingStatus]
    VETTING_STATUS_IN_REVIEW: _ClassVar[VettingStatus]
    VETTING_STATUS_APPROVED: _ClassVar[VettingStatus]
    VETTING_STATUS_DENIED: _ClassVar[VettingStatus]

class EducationSegment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EDUCATION_SEGMENT_UNSPECIFIED: _ClassVar[EducationSegment]
    EDUCATION_SEGMENT_K12: _ClassVar[EducationSegment]
    EDUCATION_SEGMENT_HIGHER_EDUCATION: _ClassVar[EducationSegment]
QUALIFICATION_KIND_UNSPECIFIED: QualificationKind
QUALIFICATION_KIND_EDUCATION: QualificationKind
QUALIFICATION_KIND_NONPROFIT: QualificationKind
QUALIFICATION_KIND_GCC: QualificationKind
QUALIFICATION_KIND_STATE_OWNED_ENTITY: QualificationKind
VETTING_STATUS_UNSPECIFIED: VettingStatus
VETTING_STATUS_IN_REVIEW: VettingStatus
VETTING_STATUS_APPROVED: VettingStatus
VETTING_STATUS_DENIED: VettingStatus
EDUCATION_SEGMENT_UNSPECIFIED: EducationSegment
EDUCATION_SEGMENT_K12: EducationSegment
EDUCATION_SEGMENT_HIGHER_EDUCATION: EducationSegment

class Qualification(_message.Message):
    __slots__ = ("kind", "vetting_status", "update_time", "education_segment", "gcc_validation_code", "submit_time", "review_time", "review_reason")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VETTING_STATUS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EDUCATION_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    GCC_VALIDATION_CODE_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_REASON_FIELD_NUMBER: _ClassVar[int]
    kind: QualificationKind
    vetting_status: VettingStatus
    update_time: _timestamp_pb2.Timestamp
    education_segment: EducationSegment
    gcc_validation_code: str
    submit_time: _timestamp_pb2.Timestamp
    review_time: _timestamp_pb2.Timestamp
    review_reason: str
    def __init__(self, kind: _Optional[_Union[QualificationKind, str]] = ..., vetting_status: _Optional[_Union[VettingStatus, str]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., education_segment: _Optional[_Union[EducationSegment, str]] = ..., gcc_validation_code: _Optional[str] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_reason: _Optional[str] = ...) -> None: ...

class Agreement(_message.Message):
    __slots__ = ("contact_name", "contact_email", "accept_time")
    CONTACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_TIME_FIELD_NUMBER: _ClassVar[int]
    contact_name: str
    contact_email: str
    accept_time: _timestamp_pb2.Timestamp
    def __init__(self, contact_name: _Optional[str] = ..., contact_email: _Optional[str] = ..., accept_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "company_name", "country", "email", "domain", "qualifications", "agreement", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    QUALIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    company_name: str
    country: str
    email: str
    domain: str
    qualifications: _containers.RepeatedCompositeFieldContainer[Qualification]
    agreement: Agreement
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., company_name: _Optional[str] = ..., country: _Optional[str] = ..., email: _Optional[str] = ..., domain: _Optional[str] = ..., qualifications: _Optional[_Iterable[_Union[Qualification, _Mapping]]] = ..., agreement: _Optional[_Union[Agreement, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("request_id", "company_name", "country", "email", "domain")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    company_name: str
    country: str
    email: str
    domain: str
    def __init__(self, request_id: _Optional[str] = ..., company_name: _Optional[str] = ..., country: _Optional[str] = ..., email: _Optional[str] = ..., domain: _Optional[str] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SubmitQualificationRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "etag", "kind", "education_segment", "gcc_validation_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EDUCATION_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    GCC_VALIDATION_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    etag: str
    kind: QualificationKind
    education_segment: EducationSegment
    gcc_validation_code: str
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., etag: _Optional[str] = ..., kind: _Optional[_Union[QualificationKind, str]] = ..., education_segment: _Optional[_Union[EducationSegment, str]] = ..., gcc_validation_code: _Optional[str] = ...) -> None: ...

class SubmitQualificationResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class WithdrawQualificationRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "etag", "kind")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    etag: str
    kind: QualificationKind
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., etag: _Optional[str] = ..., kind: _Optional[_Union[QualificationKind, str]] = ...) -> None: ...

class WithdrawQualificationResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class AcceptAgreementRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "etag", "contact_name", "contact_email", "accept_time")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CONTACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_TIME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    etag: str
    contact_name: str
    contact_email: str
    accept_time: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., etag: _Optional[str] = ..., contact_name: _Optional[str] = ..., contact_email: _Optional[str] = ..., accept_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AcceptAgreementResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...
