#!/usr/bin/env python3
"""Generate the csp-commerce demo catalog from the real Partner Center fixtures.

Reads the recorded Partner Center responses in ``--source`` (default
``../shared/data/partner-center`` relative to the repository root) and writes

    <out>/seed.json
    <out>/<month>/offer-matrix.csv
    <out>/<month>/pricelist-<MARKET>.csv
    <out>/README.md

for the months 2026-11 and 2026-12 (``--out`` defaults to ``data/demo`` under the
repository root). Python 3.11, standard library only. The output is a pure function
of the input: no clock, no unseeded randomness; every "random" choice is a SHA-256
hash of a stable key, so running it twice gives byte-identical files.

After writing, the generated files are re-read with the csv module and checked
(headers, prices, prerequisites, AllowedCountries, dates); ``--check`` runs only
that verification on an existing output directory.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# Fixed configuration
# --------------------------------------------------------------------------------------
MONTHS = ["2026-11", "2026-12"]
# market -> currency; the order is the order of AllowedCountries and of the files.
# (CA/CAD was tried and left out to keep data/demo under ~6 MB; adding it back is one
# line here plus "CA" in US_DATE_STYLE.)
MARKETS = {
    "US": "USD",
    "DE": "EUR",
    "FR": "EUR",
    "GB": "GBP",
    "IE": "EUR",
    "JP": "JPY",
    "SK": "EUR",
}
RATES = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "GBP": Decimal("0.79"),
         "JPY": Decimal("150"), "CAD": Decimal("1.36")}
MINOR_DIGITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CAD": 2}
US_DATE_STYLE = {"US", "GB", "JP", "CA"}
PRICE_DESCRIPTION_MAX = 200  # SkuDescription in the price lists; the matrix keeps the full text          # 11/1/2026 12:00:00 AM
OLD_FORMAT = {"IE"}                              # no Segment column, commercial only
CHARITY_MARKETS = {"US", "DE", "GB", "FR"}
EDUCATION_MARKETS = {"US", "GB", "DE"}

MATRIX_HEADER = ["ProductTitle", "ProductId", "SkuId", "SkuTitle", "ProvisioningId",
                 "ProvisioningString", "MinLicenses", "MaxLicenses", "AssetOwnershipLimit",
                 "AssetOwnershipLimitType", "ProductSkuPreRequisites", "ProductSkuConversion",
                 "Description", "AllowedCountries"]
PRICE_HEADER = ["ProductTitle", "ProductId", "SkuId", "SkuTitle", "Publisher", "SkuDescription",
                "UnitOfMeasure", "TermDuration", "BillingPlan", "Market", "Currency", "UnitPrice",
                "PricingTierRangeMin", "PricingTierRangeMax", "EffectiveStartDate",
                "EffectiveEndDate", "Tags", "ERP Price", "Segment"]
PRICE_HEADER_OLD = PRICE_HEADER[:-1]

MICROSOFT = "Microsoft Corporation"
TERM_ORDER = {"P1M": 0, "P1Y": 1, "P3Y": 2, "": 3}
PLAN_ORDER = {"Monthly": 0, "Annual": 1, "Triennial": 2, "None": 3, "OneTime": 4}
SEGMENT_ORDER = {"Commercial": 0, "Education": 1, "Government": 2, "Charity": 3}

OPEN_END = datetime(9999, 12, 31, 23, 59, 59)
PLACEHOLDER_START = datetime(1753, 1, 1)
OVERLAP_OLD_START_MID = datetime(2026, 6, 1)
MID_MONTH_END = {"2026-11": datetime(2026, 11, 20, 23, 59, 59),
                 "2026-12": datetime(2026, 12, 15, 23, 59, 59)}

# Offers (by exact source name) singled out for the special cases. Each is asserted to
# exist, so a change in the source data fails loudly instead of silently.
EDUCATION_OFFERS = [  # "<name> for Faculty", segment Education, same product, new SKU
    "Office 365 Enterprise E1", "Office 365 Enterprise E3", "Office 365 Enterprise E5",
    "Office 365 ProPlus", "Microsoft 365 E3", "Office 365 Business Essentials",
    "Exchange Online (Plan 1)", "Exchange Online (Plan 2)", "SharePoint Online (Plan 1)",
    "SharePoint Online (Plan 2)", "OneDrive for Business (Plan 2)", "Power BI Pro",
    "Project Online Professional", "Visio Online Plan 2",
    # add-ons: keep their prerequisites (plus the Education variants of them)
    "Audio Conferencing", "Office 365 Advanced Threat Protection",
]
GCC_OFFERS = [  # "<name> GCC", segment Government, US only, new SKU
    "Office 365 Enterprise E1", "Office 365 Enterprise E3", "Office 365 Enterprise E5",
    "Microsoft 365 E3", "Microsoft 365 E5", "Exchange Online (Plan 1)",
    "Exchange Online (Plan 2)", "SharePoint Online (Plan 2)",
    "Enterprise Mobility + Security E3",
    # add-on: prerequisites are the GCC variants of its own prerequisites
    "Audio Conferencing",
]
SEAT_LIMITED = ["Office 365 Enterprise E1", "Office 365 Enterprise E3", "Microsoft 365 E3",
                "Exchange Online (Plan 1)", "Power BI Pro"]          # 300 Seats
SEAT_LIMIT = 300
# The seed's own example: the Slovak partner cannot sell Business Central Premium to its German
# customer. Left out of SK besides the hashed 10% (sold in DE and every other market).
NOT_IN_SK = ["Dynamics 365 Business Central Premium"]
OVERLAP_OFFERS = [("Office 365 Enterprise E5", PLACEHOLDER_START),
                  ("Enterprise Mobility + Security E3", OVERLAP_OLD_START_MID),
                  ("Visio Online Plan 2", PLACEHOLDER_START)]
OVERLAP_TERMS = {("P1M", "Monthly"), ("P1Y", "Monthly"), ("P1Y", "Annual")}
OVERLAP_OLD_FACTOR = Decimal("0.90")
OVERLAP_MARKETS = {"US", "DE"}
ENDED_MID_NOVEMBER = ["Office 365 Cloud App Security", "Skype for Business Plus CAL",
                      "Microsoft Social Engagement Additional 10K Posts (100 unit min)"]
# removed from 2026-12 (the three that ended mid-November plus two more)
REMOVED_IN_DECEMBER = ENDED_MID_NOVEMBER + ["Microsoft Intune Device", "Meeting Room"]
ENDED_MID_DECEMBER = ["Common Area Phone",
                      "Microsoft Social Engagement Additional 10K Posts (10 unit min)"]
DEC_NEW_EDUCATION = ["Microsoft 365 E5"]
DEC_NEW_GCC = ["Power BI Pro"]
DEC_MAX_CHANGE = ("Power BI Premium P1", 100)
DEC_EXTRA_PREREQ_ADDON = "Microsoft MyAnalytics"
DEC_EXTRA_PREREQ_CANDIDATES = ["Office 365 Enterprise E5", "Microsoft 365 E5",
                               "Office 365 Enterprise E1"]
DEC_PRICE_CHANGE_PERCENT = 3
DEC_PRICE_FACTORS = [Decimal("1.05"), Decimal("1.08"), Decimal("1.10"), Decimal("0.95"),
                     Decimal("1.03")]

# Real NCE ids that the learn-docs samples tie to products of the 2019 offer catalog:
# NCE product id -> the source product.name it is. The ties are checked against the
# sample files at run time (see Catalog._sample_online_services).
REAL_NCE_PRODUCTS = {
    "CFQ7TTC0LH18": "Office 365 Business Essentials",   # get-skus.txt provisioningId
    "CFQ7TTC0LFLS": "Azure Active Directory Premium P1",  # create-a-cart / update-a-cart
    "CFQ7TTC0LF8S": "Office 365 Enterprise E5 without Audio Conferencing",  # checkout-a-cart
}
# offer GUID -> real SKU id within the mapped product
REAL_NCE_SKUS = {
    "BD938F12-058F-4927-BBA3-AE36B1D2501C": "0001",  # Office 365 Business Essentials
    "16C9F982-A827-4003-A88E-E75DF1927F27": "0002",  # Azure Active Directory Premium P1
}

# Reservation products seen only in the samples: product id -> (title, the GetProduct.json
# product whose description it borrows).
RESERVATION_PRODUCTS_TITLES = {
    # product ids absent from GetProduct.json: title inferred from the "Virtual Machines
    # DSv2 Series" naming of get-products.txt, description from the same VM family.
    "DZH318Z0BQ36": ("Virtual Machines NV Series", "DZH318Z0BQ4T"),
    "DZH318Z0BQ5S": ("Virtual Machines ND Series", "DZH318Z0BQ5B"),
}

# Software SKUs (GetProduct.json has the products, but no SKUs): synthetic SKU titles.
SOFTWARE_SKUS = [
    # product id, sku id, title suffix, kind
    ("DG7GMGF0DWBM", "0001", " - 2 Core License Pack", "perpetual"),
    ("DG7GMGF0DWBM", "0002", " - 2 Core License Pack - Subscription", "swsub"),
    ("DG7GMGF0DWBQ", "0001", " - 2 Core License Pack", "perpetual"),
    ("DG7GMGF0DWBQ", "0002", " - 2 Core License Pack - Subscription", "swsub"),
    ("DG7GMGF0DWT5", "0001", " - 16 Core License Pack", "perpetual"),
    ("DG7GMGF0DWT5", "0002", " - 16 Core License Pack - Subscription", "swsub"),
    ("DG7GMGF0DS1K", "0001", " - 1 User CAL", "perpetual"),
    ("DG7GMGF0DS1K", "0002", " - 1 Device CAL", "perpetual"),
    ("DG7GMGF0DWSN", "0001", " - 1 User CAL", "perpetual"),
]
BARRACUDA_PUBLISHER = "Barracuda Networks, Inc."

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/csp-commerce/demo-catalog")


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------
def h_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def h01(text: str) -> Decimal:
    """A deterministic number in [0, 1) from a string."""
    return Decimal(h_int(text) % 1_000_000) / Decimal(1_000_000)


def h100(text: str) -> int:
    return h_int(text) % 100


def base36(n: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out


def q(amount: Decimal, digits: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def money_str(amount: Decimal, currency: str) -> str:
    return f"{q(amount, MINOR_DIGITS[currency]):f}"


def short_description(text: str, limit: int = PRICE_DESCRIPTION_MAX) -> str:
    """The description cut at a sentence (or word) boundary to at most ``limit`` chars."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = cut.rfind(". ")
    if end >= limit // 2:
        return cut[: end + 1]
    return cut[: limit - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def fmt_date(dt: datetime, market: str) -> str:
    if market in US_DATE_STYLE:
        hour12 = dt.hour % 12 or 12
        ampm = "AM" if dt.hour < 12 else "PM"
        return f"{dt.month}/{dt.day}/{dt.year} {hour12}:{dt.minute:02d}:{dt.second:02d} {ampm}"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text: str) -> datetime:
    if "T" in text:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")


def derived_guid(*parts: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(parts))).upper()


def load_json(path: Path):
    with path.open(encoding="utf-8-sig") as f:
        return json.load(f)


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------
@dataclass
class Sku:
    key: str                      # stable internal key, e.g. "offer:<GUID>", "edu:<GUID>"
    product_key: str              # groups SKUs of one product (product GUID or NCE id)
    product_title: str
    sku_title: str
    description: str
    provisioning_id: str
    min_q: int
    max_q: int
    kind: str                     # license|trial|usage|reservation|perpetual|swsub|saas
    product_type: str             # OnlineServices|Azure|Software|Marketplace
    billing_type: str             # license|usage
    category: str                 # Category= tag value
    segment: str                  # Commercial|Charity|Education|Government
    unit: str
    monthly_usd: Decimal          # segment factor already applied
    months: tuple = tuple(MONTHS)
    publisher: str = MICROSOFT
    provisioning_string: str = ""
    limit: int | None = None
    limit_type: str = ""
    prereq_keys: list = field(default_factory=list)
    conversion_keys: list = field(default_factory=list)
    is_addon: bool = False
    triennial: bool = False
    reservation_term: str = ""    # P1Y|P3Y for reservations
    id_group: int = 0             # order of SKU-id assignment inside a product
    sort_name: str = ""
    fixed_product_id: str = ""
    fixed_sku_id: str = ""
    product_id: str = ""
    sku_id: str = ""
    source_name: str = ""         # the source offer name it derives from
    variant: str = ""             # ""|education|gcc|sample

    @property
    def ref(self) -> str:
        return f"{self.product_id}/{self.sku_id}"

    @property
    def item(self) -> str:
        return f"{self.product_id}:{self.sku_id}"

    def terms(self) -> list[tuple[str, str]]:
        if self.kind == "trial":
            return [("P1M", "None")]
        if self.kind == "usage":
            return [("P1M", "Monthly")]
        if self.kind == "reservation":
            if self.reservation_term == "P1Y":
                return [("P1Y", "Monthly"), ("P1Y", "Annual")]
            return [("P3Y", "Monthly"), ("P3Y", "Annual"), ("P3Y", "Triennial")]
        if self.kind == "perpetual":
            return [("", "OneTime")]
        if self.kind == "swsub":
            return [("P1Y", "Annual"), ("P3Y", "Annual"), ("P3Y", "Triennial")]
        out = [("P1M", "Monthly"), ("P1Y", "Monthly"), ("P1Y", "Annual")]
        if self.kind == "license" and self.triennial:
            out += [("P3Y", "Annual"), ("P3Y", "Triennial")]
        return out

    def usd_price(self, term: str) -> Decimal:
        if self.kind in ("trial", "usage"):
            return Decimal("0")
        m = self.monthly_usd
        if term == "P1M":
            return q(m * Decimal("1.2"), 2)
        if term == "P1Y":
            return q(m * 12, 2)
        if term == "P3Y":
            return q(m * 36, 2)
        return q(m * 30, 2)  # perpetual

    def tags(self) -> str:
        parts = [f"ProductType={self.product_type}", f"BillingType={self.billing_type}",
                 f"Category={self.category}"]
        if self.kind == "trial":
            parts.append("Trial")
        if self.kind == "reservation":
            parts.append("Reservation")
        if self.kind == "perpetual":
            parts.append("Perpetual")
        return ";".join(parts)


# --------------------------------------------------------------------------------------
# Reading the sources
# --------------------------------------------------------------------------------------
class Sources:
    def __init__(self, root: Path):
        ps = root / "partner-center-powershell"
        docs = root / "learn-docs-samples"
        self.offers = load_json(ps / "GetPartnerOffer.response.json")["items"]
        self.products = {p["id"]: p for p in load_json(ps / "GetProduct.json")["items"]}
        self.product_skus = load_json(ps / "GetProductSku.json")["items"]
        self.availability = load_json(ps / "GetProductAvailability.json")["items"]
        self.docs = {p.name: p.read_text(encoding="utf-8-sig") for p in sorted(docs.glob("*.txt"))}
        self.all_docs = "\n".join(self.docs.values())
        if len(self.offers) != 274:
            raise SystemExit(f"expected 274 offers, found {len(self.offers)}")

    def friendly_names(self) -> dict[str, str]:
        """offerId -> friendlyName from the order/cart samples."""
        out: dict[str, str] = {}
        for text in self.docs.values():
            lines = text.splitlines()
            for i, line in enumerate(lines):
                m = re.search(r'"offerId":\s*"([^"]+)"', line)
                if not m:
                    continue
                for nxt in lines[i + 1:i + 8]:
                    f = re.search(r'"friendlyName":\s*"([^"]+)"', nxt)
                    if f:
                        out.setdefault(m.group(1), f.group(1))
                        break
        return out

    def doc_skus(self) -> list[dict]:
        """SKU objects in get-skus.txt (the blocks are not valid JSON: use a regex)."""
        pat = re.compile(
            r'"id":\s*"(?P<id>[0-9A-Z]{4})",\s*"productId":\s*"(?P<pid>[0-9A-Z]{12})",\s*'
            r'"title":\s*"(?P<title>[^"]*)",\s*"description":\s*"(?P<desc>[^"]*)",\s*'
            r'"minimumQuantity":\s*(?P<min>\d+),\s*"maximumQuantity":\s*(?P<max>\d+)')
        out, seen = [], set()
        for m in pat.finditer(self.docs["get-skus.txt"]):
            k = (m["pid"], m["id"])
            if k not in seen:
                seen.add(k)
                out.append({"id": m["id"], "productId": m["pid"], "title": m["title"],
                            "description": m["desc"], "minimumQuantity": int(m["min"]),
                            "maximumQuantity": int(m["max"])})
        return out

    def doc_ids(self) -> set[str]:
        return set(re.findall(r"\b(?:CFQ7TTC0|DZH318|DG7GMGF0)[0-9A-Z]{4,6}\b", self.all_docs))


def base_offer_name(name: str) -> str:
    """The commercial name an offer variant derives from (for a shared price)."""
    out = name
    for token in (" (Nonprofit Staff Pricing)", " (Nonprofits Pricing)", " (50 Seat Donation)"):
        out = out.replace(token, "")
    for suffix in (" - Volunteer", " Trial", " Shift Campaign - 15%"):
        if out.endswith(suffix):
            out = out[: -len(suffix)]
    return out


def monthly_price(base: str, lo: str, hi: str) -> Decimal:
    lo_d, hi_d = Decimal(lo), Decimal(hi)
    return q(lo_d + h01("price:" + base) * (hi_d - lo_d), 1)


SEGMENT_FACTOR = {"Commercial": Decimal("1"), "Charity": Decimal("0.4"),
                  "Education": Decimal("0.3"), "Government": Decimal("1.2")}


def category_tag(source_category: str, is_addon: bool) -> str:
    mapping = {"Enterprise": "Enterprise", "Small business": "SmallBusiness",
               "Nonprofit": "Nonprofit", "Trial": "Trial"}
    if not source_category:
        return "Addon" if is_addon else "Enterprise"
    return mapping.get(source_category, source_category.replace(" ", ""))


# --------------------------------------------------------------------------------------
# Building the catalog universe (every SKU of every month)
# --------------------------------------------------------------------------------------
class Catalog:
    def __init__(self, src: Sources):
        self.src = src
        self.skus: dict[str, Sku] = {}
        self.by_name: dict[str, Sku] = {}        # source offer name -> commercial/base SKU
        self.variants: dict[tuple[str, str], Sku] = {}  # (variant, base key) -> variant SKU
        self.notes: dict[str, object] = {}
        self._offers()
        self._sample_online_services()
        self._variants()
        self._azure()
        self._software()
        self._marketplace()
        self._special_cases()
        self._assign_ids()
        self._market_exclusions()

    def add(self, s: Sku) -> Sku:
        if s.key in self.skus:
            raise SystemExit(f"duplicate SKU key {s.key}")
        self.skus[s.key] = s
        return s

    def named(self, name: str) -> Sku:
        if name not in self.by_name:
            raise SystemExit(f"offer {name!r} not found in the source")
        return self.by_name[name]

    # -- GetPartnerOffer ---------------------------------------------------------------
    def _offers(self):
        offer_ids = {o["id"] for o in self.src.offers}
        for o in self.src.offers:
            nonprofit = ("Nonprofit" in o["reselleeQualifications"]
                         or o["category"]["name"] == "Nonprofit")
            segment = "Charity" if nonprofit else "Commercial"
            prereqs = [f"offer:{p}" for p in dict.fromkeys(o["prerequisiteOffers"])
                       if p in offer_ids]
            is_addon = bool(o["isAddOn"]) and bool(prereqs)
            if not is_addon:
                prereqs = []
            usage = o["billing"] == "usage"
            if o["isTrial"]:
                kind = "trial"
            elif usage:
                kind = "usage"
            else:
                kind = "license"
            base = base_offer_name(o["name"])
            lo, hi = ("1.50", "20.00") if is_addon else ("1.50", "57.00")
            monthly = monthly_price(base, lo, hi)
            if "Shift Campaign - 15%" in o["name"]:
                monthly = q(monthly * Decimal("0.85"), 1)
            monthly = q(monthly * SEGMENT_FACTOR[segment], 2)
            limit, limit_type = None, ""
            if o["limitUnitOfMeasure"] in ("Lifetime", "Concurrent") and o["limit"] > 0:
                limit, limit_type = int(o["limit"]), o["limitUnitOfMeasure"]
            s = self.add(Sku(
                key=f"offer:{o['id']}",
                product_key=o["product"]["id"].upper(),
                product_title=o["product"]["name"],
                sku_title=o["name"],
                description=o["description"],
                provisioning_id=o["id"],
                min_q=int(o["minimumQuantity"]),
                max_q=int(o["maximumQuantity"]),
                kind=kind,
                product_type="Azure" if usage else (
                    "OnlineServices" if o["isMicrosoftProduct"] else "Marketplace"),
                billing_type=o["billing"],
                category=category_tag(o["category"]["name"], is_addon),
                segment=segment,
                unit=o.get("unitType") or o["product"]["unit"],
                monthly_usd=monthly,
                publisher=MICROSOFT if o["isMicrosoftProduct"] else o.get("publisherName", ""),
                limit=limit,
                limit_type=limit_type,
                prereq_keys=prereqs,
                conversion_keys=[f"offer:{c}" for c in o.get("conversionTargetOffers") or []
                                 if c in offer_ids],
                is_addon=is_addon,
                triennial=(kind == "license" and h100("p3y:" + base) < 33),
                sort_name=o["name"],
                source_name=o["name"],
            ))
            if o["id"].upper() in REAL_NCE_SKUS:
                s.fixed_sku_id = REAL_NCE_SKUS[o["id"].upper()]
            if segment == "Commercial" and not o["isTrial"]:
                self.by_name.setdefault(o["name"], s)
        # non-add-on offers whose prerequisites did not resolve
        self.notes["addon_without_prereq"] = sorted(
            o["name"] for o in self.src.offers
            if o["isAddOn"] and not any(p in offer_ids for p in o["prerequisiteOffers"]))
        for s in self.skus.values():
            self.by_name.setdefault(s.source_name, s)

    # -- an online-services SKU seen only in the learn-docs samples ---------------------
    def _sample_online_services(self):
        names = self.src.friendly_names()
        sample_item = "CFQ7TTC0LF8S:0001"
        title = next((v for k, v in names.items() if k.startswith(sample_item)), None)
        if title is None:
            raise SystemExit("checkout-a-cart.txt: CFQ7TTC0LF8S:0001 not found")
        np = self.named("Office 365 Enterprise E5 without Audio Conferencing (Nonprofit Staff Pricing)")
        base = base_offer_name(np.source_name)
        self.add(Sku(
            key="sample:CFQ7TTC0LF8S:0001", product_key=np.product_key,
            product_title=np.product_title, sku_title=title, description=np.description,
            provisioning_id=derived_guid("sample", sample_item), min_q=np.min_q,
            max_q=np.max_q, kind="license", product_type="OnlineServices",
            billing_type="license", category="Enterprise", segment="Commercial",
            unit=np.unit, monthly_usd=monthly_price(base, "1.50", "57.00"),
            triennial=h100("p3y:" + base) < 33, fixed_sku_id="0001", sort_name=title,
            source_name=title, variant="sample"))
        # the verification that the real-id mappings are backed by the samples
        get_skus = self.src.docs["get-skus.txt"]
        if '"provisioningId": "3b555118-da6a-4418-894f-7df1e2096870"' not in get_skus \
                or '"productId": "CFQ7TTC0LH18"' not in get_skus:
            raise SystemExit("get-skus.txt no longer ties CFQ7TTC0LH18 to 3B555118-...")
        if names.get("CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ") != "Azure Active Directory Premium P1":
            raise SystemExit("update-a-cart.txt no longer names CFQ7TTC0LFLS:0002")
        # product GUID -> real NCE product id
        self.real_product_ids: dict[str, str] = {}
        for nce_id, product_name in REAL_NCE_PRODUCTS.items():
            keys = {s.product_key for s in self.skus.values()
                    if s.variant == "" and s.product_title == product_name}
            if len(keys) != 1:
                raise SystemExit(f"{nce_id}: product {product_name!r} is not unique: {keys}")
            self.real_product_ids[keys.pop()] = nce_id
        lh18 = next(k for k, v in self.real_product_ids.items() if v == "CFQ7TTC0LH18")
        if f'"provisioningId": "{lh18.lower()}"' not in get_skus:
            raise SystemExit("get-skus.txt provisioningId does not match CFQ7TTC0LH18's product")

    # -- Education and GCC variants -------------------------------------------------------
    def _make_variant(self, base: Sku, variant: str, months: tuple, group: int) -> Sku:
        if variant == "education":
            title, segment, category = base.sku_title + " for Faculty", "Education", "Education"
            desc = base.description + " Academic pricing for qualified education institutions (faculty and staff)."
        else:
            title, segment, category = base.sku_title + " GCC", "Government", "Government"
            desc = base.description + " For qualified US Government Community Cloud (GCC) customers."
        src_base = base_offer_name(base.source_name)
        lo, hi = ("1.50", "20.00") if base.is_addon else ("1.50", "57.00")
        monthly = q(monthly_price(src_base, lo, hi) * SEGMENT_FACTOR[segment], 2)
        v = self.add(Sku(
            key=f"{variant}:{base.provisioning_id}", product_key=base.product_key,
            product_title=base.product_title, sku_title=title, description=desc,
            provisioning_id=derived_guid(variant, base.provisioning_id),
            min_q=base.min_q, max_q=base.max_q, kind=base.kind,
            product_type=base.product_type, billing_type=base.billing_type,
            category=category, segment=segment, unit=base.unit, monthly_usd=monthly,
            months=months, is_addon=base.is_addon, triennial=base.triennial,
            id_group=group, sort_name=title, source_name=base.source_name, variant=variant))
        self.variants[(variant, base.key)] = v
        return v

    def _variants(self):
        dec_only = (MONTHS[1],)
        for name in EDUCATION_OFFERS:
            self._make_variant(self.named(name), "education", tuple(MONTHS), 1)
        for name in GCC_OFFERS:
            self._make_variant(self.named(name), "gcc", tuple(MONTHS), 2)
        for name in DEC_NEW_EDUCATION:
            self._make_variant(self.named(name), "education", dec_only, 3)
        for name in DEC_NEW_GCC:
            self._make_variant(self.named(name), "gcc", dec_only, 3)
        # add-on prerequisites of the variants
        for (variant, base_key), v in self.variants.items():
            if not v.is_addon:
                continue
            base = self.skus[base_key]
            # only variants sold from the first month on (a later one would silently
            # change this add-on's prerequisites)
            mapped = [self.variants[(variant, k)].key for k in base.prereq_keys
                      if (variant, k) in self.variants
                      and self.variants[(variant, k)].months == tuple(MONTHS)]
            if variant == "education":
                v.prereq_keys = list(dict.fromkeys(base.prereq_keys + mapped))
            else:
                v.prereq_keys = mapped
            if not v.prereq_keys:
                raise SystemExit(f"{v.sku_title}: no prerequisite left")

    # -- Azure: reservations and the usage-billed plan ------------------------------------
    def _azure(self):
        names = self.src.friendly_names()
        products = self.src.products

        def reservation(pid: str, sid: str, title: str, desc: str, minq: int, maxq: int,
                        prov_vars: list[str], months: tuple, group: int) -> None:
            if pid in products:
                ptitle, pdesc = products[pid]["title"], products[pid]["description"]
            else:
                ptitle, src_pid = RESERVATION_PRODUCTS_TITLES[pid]
                pdesc = products[src_pid]["description"]
            term = "P3Y" if re.search(r"3 Years?$", title) else "P1Y"
            self.add(Sku(
                key=f"res:{pid}:{sid}", product_key=pid, product_title=ptitle,
                sku_title=title, description=desc or pdesc, provisioning_id=f"{pid}:{sid}",
                provisioning_string="ProvisioningVariables=" + ",".join(prov_vars),
                min_q=minq, max_q=maxq, kind="reservation", product_type="Azure",
                billing_type="license", category="Enterprise", segment="Commercial",
                unit="Instances", monthly_usd=monthly_price(f"{pid}:{sid}", "25.00", "950.00"),
                months=months, reservation_term=term, id_group=group,
                fixed_product_id=pid, fixed_sku_id=sid, sort_name=title, source_name=title))

        # GetProductSku.json: four real SKUs of DZH318Z0BQ4C
        for s in self.src.product_skus:
            reservation(s["productId"], s["id"], s["title"], s["description"],
                        s["minimumQuantity"], s["maximumQuantity"],
                        s.get("provisioningVariables", []), tuple(MONTHS), 0)
        # get-skus.txt: DZH318Z0BQ5S 0001/0002 -> a new product in 2026-12
        for s in self.src.doc_skus():
            if s["productId"].startswith("DZH318"):
                reservation(s["productId"], s["id"], s["title"], s["description"],
                            s["minimumQuantity"], s["maximumQuantity"],
                            ["Scope", "SubscriptionId"], (MONTHS[1],), 3)
        # order / cart samples: friendlyName of reservation line items
        wanted = {"DZH318Z0BQ36:004G": tuple(MONTHS), "DZH318Z0BQ36:004J": (MONTHS[1],),
                  "DZH318Z0BQ4B:000Z": tuple(MONTHS), "DZH318Z0BQ4Z:002L": tuple(MONTHS)}
        for item, months in wanted.items():
            fn = next((v for k, v in names.items() if k.startswith(item + ":")), None)
            if fn is None:
                raise SystemExit(f"no friendlyName for {item} in the samples")
            m = re.fullmatch(r"Reserved_VM_Instance_(Standard_[A-Za-z0-9]+)_(.+)_(\d)_(Years?)", fn)
            if m:  # "Reserved_VM_Instance_Standard_D1_AP_East_1_Year"
                fn = (f"Reserved VM Instance, {m[1]}, {m[2].replace('_', ' ')}, "
                      f"{m[3]} {m[4]}")
            pid, sid = item.split(":")
            desc = fn.replace("Reserved VM Instance", "Reserved Virtual Machines Instance")
            reservation(pid, sid, fn, desc, 1, 999999999, ["Scope", "SubscriptionId"],
                        months, 0 if months == tuple(MONTHS) else 3)
        if "MS-AZR-0145P" not in names:
            raise SystemExit("checkout-a-cart.txt: MS-AZR-0145P missing")

    # -- Software ----------------------------------------------------------------------------
    def _software(self):
        for pid, sid, suffix, kind in SOFTWARE_SKUS:
            p = self.src.products[pid]
            assert p["productType"]["id"] == "Software", pid
            title = p["title"] + suffix
            self.add(Sku(
                key=f"sw:{pid}:{sid}", product_key=pid, product_title=p["title"],
                sku_title=title, description=p["description"].strip(),
                provisioning_id=f"{pid}:{sid}", min_q=1, max_q=10000, kind=kind,
                product_type="Software", billing_type="license", category="Enterprise",
                segment="Commercial", unit="Licenses",
                monthly_usd=monthly_price(pid, "8.00", "240.00"),
                fixed_product_id=pid, fixed_sku_id=sid, sort_name=title, source_name=title))
        names = self.src.friendly_names()
        item = "DG7GMGF0DWM3:0002"
        title = next(v for k, v in names.items() if k.startswith(item + ":"))
        pid, sid = item.split(":")
        self.add(Sku(
            key=f"sw:{pid}:{sid}", product_key=pid, product_title=title, sku_title=title,
            description=f"{title}: perpetual licence for branch-office integration servers.",
            provisioning_id=item, min_q=1, max_q=10000, kind="perpetual",
            product_type="Software", billing_type="license", category="Enterprise",
            segment="Commercial", unit="Licenses",
            monthly_usd=monthly_price(pid, "8.00", "240.00"), fixed_product_id=pid,
            fixed_sku_id=sid, sort_name=title, source_name=title))

    # -- Marketplace (third-party SaaS) ------------------------------------------------------
    def _marketplace(self):
        names = self.src.friendly_names()
        item = "DZH318Z0BXWC:0002"
        title = next(v for k, v in names.items() if k.startswith(item + ":"))
        pid, sid = item.split(":")
        self.add(Sku(
            key=f"saas:{pid}:{sid}", product_key=pid, product_title=title.split(" - ")[0],
            sku_title=title,
            description="Web Application Firewall as a Service (WaaS) by Barracuda, Medium plan.",
            provisioning_id=item, min_q=1, max_q=1, kind="saas", product_type="Marketplace",
            billing_type="license", category="Enterprise", segment="Commercial",
            unit="Licenses", monthly_usd=monthly_price(title, "20.00", "57.00"),
            publisher=BARRACUDA_PUBLISHER, fixed_product_id=pid, fixed_sku_id=sid,
            sort_name=title, source_name=title))

    # -- special cases -------------------------------------------------------------------------
    def _special_cases(self):
        for name in SEAT_LIMITED:
            s = self.named(name)
            if s.is_addon or s.limit is not None:
                raise SystemExit(f"seat-limit example {name} unsuitable")
            s.limit, s.limit_type = SEAT_LIMIT, "Seats"
        referenced = {k for s in self.skus.values() for k in s.prereq_keys + s.conversion_keys}
        for name in REMOVED_IN_DECEMBER:
            s = self.named(name)
            if s.key in referenced:
                raise SystemExit(f"{name} is a prerequisite/conversion target; pick another")
            s.months = (MONTHS[0],)

    # -- which SKUs a market leaves out ------------------------------------------------------
    def _market_exclusions(self):
        """Exact shares, picked by hash rank over every SKU of both months (so a SKU's
        fate does not depend on the month): 5% of the FR-eligible SKUs not in FR, a
        different 5% not in JP, 10% of the commercial SKUs not in SK."""
        def pick(pool: list[str], salt: str, percent: int) -> set[str]:
            ranked = sorted(pool, key=lambda k: (h_int(salt + k), k))
            return set(ranked[: round(len(pool) * percent / 100)])

        keys = sorted(self.skus)
        commercial = [k for k in keys if self.skus[k].segment == "Commercial"]
        fr = pick([k for k in keys if self.skus[k].segment in ("Commercial", "Charity")],
                  "mkt-fr:", 5)
        jp = pick([k for k in commercial if k not in fr
                   and self.skus[k].kind != "reservation"], "mkt-jp:", 5)
        sk = pick(commercial, "mkt-sk:", 10) | {self.named(n).key for n in NOT_IN_SK}
        self.excluded = {"FR": fr, "JP": jp, "SK": sk}

    # -- ids ------------------------------------------------------------------------------------
    def _assign_ids(self):
        reserved = set(self.src.doc_ids()) | {s.fixed_product_id for s in self.skus.values()}
        used = set(s.fixed_product_id for s in self.skus.values() if s.fixed_product_id)
        product_ids: dict[str, str] = {}
        for pkey in sorted({s.product_key for s in self.skus.values()}):
            fixed = {s.fixed_product_id for s in self.skus.values()
                     if s.product_key == pkey and s.fixed_product_id}
            if fixed:
                product_ids[pkey] = fixed.pop()
                continue
            if pkey in self.real_product_ids:
                pid = self.real_product_ids[pkey]
            else:
                salt = 0
                while True:
                    pid = "CFQ7TTC0" + base36(h_int(pkey + (f"#{salt}" if salt else "")), 4)
                    if pid not in reserved and pid not in used:
                        break
                    salt += 1
            if pid in used:
                raise SystemExit(f"product id collision {pid}")
            used.add(pid)
            product_ids[pkey] = pid
        by_product: dict[str, list[Sku]] = {}
        for s in self.skus.values():
            s.product_id = product_ids[s.product_key]
            by_product.setdefault(s.product_id, []).append(s)
        for pid, skus in by_product.items():
            taken = {s.fixed_sku_id for s in skus if s.fixed_sku_id}
            n = 1
            for s in sorted(skus, key=lambda s: (s.id_group, s.sort_name, s.provisioning_id)):
                if s.fixed_sku_id:
                    s.sku_id = s.fixed_sku_id
                    continue
                while f"{n:04X}" in taken:
                    n += 1
                s.sku_id = f"{n:04X}"
                taken.add(s.sku_id)
            if len({s.sku_id for s in skus}) != len(skus):
                raise SystemExit(f"duplicate SKU ids in {pid}")
        for s in self.skus.values():
            if not re.fullmatch(r"[0-9A-Z]{12}", s.product_id):
                raise SystemExit(f"bad product id {s.product_id}")


# --------------------------------------------------------------------------------------
# One month
# --------------------------------------------------------------------------------------
@dataclass
class PriceRow:
    sku: Sku
    market: str
    term: str
    plan: str
    price: Decimal            # market currency, rounded
    start: datetime
    end: datetime
    older: bool = False       # the superseded row of an overlapping pair

    def sort_key(self):
        return (self.sku.product_id, self.sku.sku_id, SEGMENT_ORDER[self.sku.segment],
                TERM_ORDER[self.term], PLAN_ORDER[self.plan], self.start)


class Month:
    def __init__(self, cat: Catalog, month: str):
        self.cat = cat
        self.month = month
        year, mon = (int(x) for x in month.split("-"))
        self.start = datetime(year, mon, 1)
        self.skus = {k: s for k, s in cat.skus.items() if month in s.months}
        self.max_override: dict[str, int] = {}
        self.extra_prereqs: dict[str, list[str]] = {}
        self.newly_sk: set[str] = set()
        self.price_changes: dict[tuple[str, str, str], Decimal] = {}
        if month == MONTHS[1]:
            self._december_changes()
        self.markets = self._markets()
        self.prereqs = self._prereqs()
        self.rows = self._rows()
        self.allowed = {k: sorted({r.market for r in self.rows if r.sku.key == k},
                                  key=list(MARKETS).index) for k in self.skus}
        missing = [s.item for k, s in self.skus.items() if not self.allowed[k]]
        if missing:
            raise SystemExit(f"{month}: SKUs without any price row: {missing}")

    # deterministic December changes relative to November
    def _december_changes(self):
        cat = self.cat
        name, new_max = DEC_MAX_CHANGE
        self.max_override[cat.named(name).key] = new_max
        addon = cat.named(DEC_EXTRA_PREREQ_ADDON)
        extra = next(cat.named(n).key for n in DEC_EXTRA_PREREQ_CANDIDATES
                     if cat.named(n).key not in addon.prereq_keys)
        self.extra_prereqs[addon.key] = [extra]
        nov = Month(cat, MONTHS[0])
        not_in_sk = [s for s in sorted(nov.skus.values(), key=lambda s: (s.product_id, s.sku_id))
                     if "SK" not in nov.allowed[s.key] and s.segment == "Commercial"
                     and s.kind == "license" and not s.is_addon and s.key in self.skus]
        self.newly_sk.add(not_in_sk[-1].key)
        for s in self.skus.values():
            if s.kind in ("trial", "usage") or s.key not in nov.skus:
                continue
            for term, plan in s.terms():
                k = f"{s.key}|{term}|{plan}"
                if h100("dec-price:" + k) < DEC_PRICE_CHANGE_PERCENT:
                    self.price_changes[(s.key, term, plan)] = DEC_PRICE_FACTORS[
                        h_int("dec-factor:" + k) % len(DEC_PRICE_FACTORS)]

    def _markets(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for k, s in self.skus.items():
            if s.segment == "Government":
                ms = {"US"}
            elif s.segment == "Charity":
                ms = set(CHARITY_MARKETS)
            elif s.segment == "Education":
                ms = set(EDUCATION_MARKETS)
            else:
                ms = set(MARKETS)
            if s.kind == "reservation":
                ms.discard("JP")
            for market, keys in self.cat.excluded.items():
                if k in keys and not (market == "SK" and k in self.newly_sk):
                    ms.discard(market)
            out[k] = ms
        # an add-on is only sold where at least one of its prerequisites is sold
        for k, s in self.skus.items():
            if s.is_addon:
                pre = [p for p in self.all_prereq_keys(s) if p in self.skus]
                out[k] = {m for m in out[k] if any(m in out[p] for p in pre)}
        return out

    def all_prereq_keys(self, s: Sku) -> list[str]:
        return s.prereq_keys + self.extra_prereqs.get(s.key, [])

    def _prereqs(self) -> dict[str, list[str]]:
        out = {}
        for k, s in self.skus.items():
            if not s.is_addon:
                out[k] = []
                continue
            refs = sorted({self.skus[p].ref for p in self.all_prereq_keys(s) if p in self.skus})
            if not refs:
                raise SystemExit(f"{self.month}: add-on {s.sku_title} lost all prerequisites")
            out[k] = refs
        return out

    def _rows(self) -> list[PriceRow]:
        rows: list[PriceRow] = []
        ended = set()
        for name in (ENDED_MID_NOVEMBER if self.month == MONTHS[0] else ENDED_MID_DECEMBER):
            ended.add(self.cat.named(name).key)
        self.ended_keys = ended
        overlap = {self.cat.named(n).key: start for n, start in OVERLAP_OFFERS}
        for k, s in sorted(self.skus.items(), key=lambda kv: (kv[1].product_id, kv[1].sku_id)):
            for market in MARKETS:
                if market not in self.markets[k]:
                    continue
                if market in OLD_FORMAT and s.segment != "Commercial":
                    continue
                cur = MARKETS[market]
                for term, plan in s.terms():
                    usd = s.usd_price(term)
                    factor = self.price_changes.get((k, term, plan))
                    if factor is not None:
                        usd = q(usd * factor, 2)
                    price = q(usd * RATES[cur], MINOR_DIGITS[cur])
                    end = MID_MONTH_END[self.month] if k in ended else OPEN_END
                    start = self.start
                    if k not in overlap and h100(f"1753:{market}:{k}:{term}:{plan}") < 5:
                        start = PLACEHOLDER_START
                    rows.append(PriceRow(s, market, term, plan, price, start, end))
                    if k in overlap and market in OVERLAP_MARKETS and (term, plan) in OVERLAP_TERMS:
                        old_usd = q(s.usd_price(term) * OVERLAP_OLD_FACTOR, 2)
                        old = q(old_usd * RATES[cur], MINOR_DIGITS[cur])
                        rows.append(PriceRow(s, market, term, plan, old, overlap[k], OPEN_END,
                                             older=True))
        rows.sort(key=lambda r: (list(MARKETS).index(r.market),) + r.sort_key())
        return rows

    # -- writing -------------------------------------------------------------------------
    def matrix_rows(self) -> list[list[str]]:
        out = []
        for k, s in sorted(self.skus.items(), key=lambda kv: (kv[1].product_id, kv[1].sku_id)):
            conv = ",".join(self.skus[c].ref for c in s.conversion_keys if c in self.skus)
            out.append([
                s.product_title, s.product_id, s.sku_id, s.sku_title, s.provisioning_id,
                s.provisioning_string, str(s.min_q), str(self.max_override.get(k, s.max_q)),
                "" if s.limit is None else str(s.limit), s.limit_type,
                ",".join(self.prereqs[k]), conv, s.description, ";".join(self.allowed[k]),
            ])
        return out

    def price_rows(self, market: str) -> list[list[str]]:
        cur = MARKETS[market]
        out = []
        for r in self.rows:
            if r.market != market:
                continue
            s = r.sku
            row = [s.product_title, s.product_id, s.sku_id, s.sku_title, s.publisher,
                   short_description(s.description), s.unit, r.term, r.plan, market, cur,
                   money_str(r.price, cur), "0", "", fmt_date(r.start, market),
                   fmt_date(r.end, market), s.tags(),
                   money_str(q(r.price * Decimal("1.2"), MINOR_DIGITS[cur]), cur), s.segment]
            out.append(row[:-1] if market in OLD_FORMAT else row)
        return out


def csv_bytes(header: list[str], rows: list[list[str]], quote_all: bool) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                   lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------
# seed.json
# --------------------------------------------------------------------------------------
def seed() -> dict:
    def uid(kind: str, key: str) -> str:
        return str(uuid.uuid5(ID_NAMESPACE, f"{kind}/{key}"))

    partners = [
        ("us", "Contoso Cloud Partners", "US", "USD", False),
        ("de", "Adatum Cloud Solutions GmbH", "DE", "EUR", False),
        ("sk", "Litware Slovensko s.r.o.", "SK", "EUR", False),
        ("gcc", "Relecloud Government Services", "US", "USD", True),
    ]
    # key, partner, company, country, domain, qualifications, agreement (name, accepted_at)
    customers = [
        ("us-fabrikam", "us", "Fabrikam, Inc.", "US", "fabrikam.example.com", [],
         ("Dana Whitley", "2026-10-01T09:00:00Z")),
        ("us-northwind-foundation", "us", "Northwind Traders Foundation", "US",
         "northwindfoundation.example.org", [("nonprofit", "approved")],
         ("Marcus Oyelaran", "2026-10-02T14:30:00Z")),
        ("us-bellows-college", "us", "Bellows College", "US", "bellowscollege.example.edu",
         [("education", "in_review")], ("Priya Natarajan", "2026-10-05T16:15:00Z")),
        ("us-woodgrove-de", "us", "Woodgrove Bank Deutschland AG", "DE",
         "woodgrovebank.example.de", [], ("Jonas Becker", "2026-10-07T08:45:00Z")),
        ("de-tailspin", "de", "Tailspin Toys GmbH", "DE", "tailspintoys.example.de", [],
         ("Lena Hoffmann", "2026-10-01T10:00:00Z")),
        ("de-coho-stiftung", "de", "Coho Winery Stiftung", "DE", "cohowinery.example.de",
         [("nonprofit", "denied")], ("Matthias Roth", "2026-10-03T11:20:00Z")),
        ("de-alpine-ski-house", "de", "Alpine Ski House GmbH", "DE",
         "alpineskihouse.example.de", [], None),
        ("sk-proseware", "sk", "Proseware, s.r.o.", "SK", "proseware.example.sk", [],
         ("Zuzana Kováčová", "2026-10-01T07:30:00Z")),
        ("sk-lamna-de", "sk", "Lamna Healthcare GmbH", "DE", "lamnahealthcare.example.de", [],
         ("Stefan Krüger", "2026-10-04T13:00:00Z")),
        ("sk-city-power", "sk", "City Power & Light, a.s.", "SK", "citypower.example.sk",
         [("state_owned_entity", "approved")], ("Peter Horváth", "2026-10-06T09:10:00Z")),
        ("gcc-woodgrove-county", "gcc", "Woodgrove County Government", "US",
         "woodgrovecounty.example.gov", [("gcc", "approved")],
         ("Angela Ruiz", "2026-10-02T15:00:00Z")),
        ("gcc-blue-yonder", "gcc", "Blue Yonder Airlines", "US", "blueyonderairlines.example.com",
         [("gcc", "in_review")], ("Kevin Liu", "2026-10-08T12:00:00Z")),
    ]
    out = {"partners": [], "customers": []}
    for key, name, country, cur, gcc in partners:
        out["partners"].append({"key": key, "id": uid("partner", key), "name": name,
                                "country": country, "currency": cur, "gcc": gcc})
    for key, partner, company, country, domain, quals, agreement in customers:
        contact = None
        if agreement:
            first = agreement[0].split()[0].lower()
            first = first.translate(str.maketrans("áčéíňóšťúýž", "aceinostuyz"))
            contact = {"contact_name": agreement[0], "contact_email": f"{first}@{domain}",
                       "accepted_at": agreement[1]}
        out["customers"].append({
            "key": key, "id": uid("customer", key), "partner": partner,
            "company_name": company, "country": country, "email": f"admin@{domain}",
            "domain": domain,
            "qualifications": [{"kind": k, "vetting": v} for k, v in quals],
            "agreement": contact,
        })
    return out


# --------------------------------------------------------------------------------------
# Verification of the written files
# --------------------------------------------------------------------------------------
def verify(out: Path) -> dict:
    """Re-read the generated CSVs and check them. Returns statistics."""
    errors: list[str] = []
    stats: dict = {}
    for month in MONTHS:
        mdir = out / month
        with (mdir / "offer-matrix.csv").open(encoding="utf-8", newline="") as f:
            rd = csv.reader(f)
            header = next(rd)
            if header != MATRIX_HEADER:
                errors.append(f"{month} matrix header {header}")
            matrix = {}
            for row in rd:
                if len(row) != len(MATRIX_HEADER):
                    errors.append(f"{month} matrix row width {row[:3]}")
                    continue
                rec = dict(zip(MATRIX_HEADER, row))
                k = (rec["ProductId"], rec["SkuId"])
                if k in matrix:
                    errors.append(f"{month} duplicate matrix row {k}")
                matrix[k] = rec
                if not re.fullmatch(r"[0-9A-Z]{12}", rec["ProductId"]):
                    errors.append(f"bad ProductId {rec['ProductId']}")
                if not re.fullmatch(r"[0-9A-Z]{4}", rec["SkuId"]):
                    errors.append(f"bad SkuId {rec['SkuId']}")
                int(rec["MinLicenses"]), int(rec["MaxLicenses"])
                if rec["AssetOwnershipLimit"]:
                    int(rec["AssetOwnershipLimit"])
                    if rec["AssetOwnershipLimitType"] not in ("Lifetime", "Concurrent", "Seats"):
                        errors.append(f"bad limit type {rec}")
                elif rec["AssetOwnershipLimitType"]:
                    errors.append(f"limit type without limit {k}")
        for k, rec in matrix.items():
            for ref in filter(None, rec["ProductSkuPreRequisites"].split(",")):
                if tuple(ref.split("/")) not in matrix:
                    errors.append(f"{month} {k}: prerequisite {ref} not in matrix")
            for conv in filter(None, rec["ProductSkuConversion"].split(",")):
                if tuple(conv.split("/")) not in matrix:
                    errors.append(f"{month} {k}: conversion {conv} not in matrix")
        seen_markets: dict[tuple, set] = {k: set() for k in matrix}
        month_stats = {"matrix_rows": len(matrix), "price_rows": {}}
        for market, cur in MARKETS.items():
            path = mdir / f"pricelist-{market}.csv"
            with path.open(encoding="utf-8", newline="") as f:
                rd = csv.reader(f)
                header = next(rd)
                want = PRICE_HEADER_OLD if market in OLD_FORMAT else PRICE_HEADER
                if header != want:
                    errors.append(f"{path.name} header {header}")
                n = 0
                keys = set()
                for row in rd:
                    n += 1
                    if len(row) != len(want):
                        errors.append(f"{path.name} row width {row[:3]}")
                        continue
                    rec = dict(zip(want, row))
                    seg = rec.get("Segment", "Commercial")
                    k = (rec["ProductId"], rec["SkuId"])
                    if k not in matrix:
                        errors.append(f"{path.name}: {k} not in matrix")
                    else:
                        seen_markets[k].add(market)
                    if rec["Market"] != market or rec["Currency"] != cur:
                        errors.append(f"{path.name}: market/currency {rec['Market']}/{rec['Currency']}")
                    for col in ("UnitPrice", "ERP Price"):
                        v = rec[col]
                        digits = MINOR_DIGITS[cur]
                        pat = r"\d+" if digits == 0 else r"\d+\.\d{%d}" % digits
                        if not re.fullmatch(pat, v):
                            errors.append(f"{path.name}: {col} {v!r}")
                        Decimal(v)
                    if (rec["TermDuration"], rec["BillingPlan"]) not in {
                            ("P1M", "Monthly"), ("P1M", "None"), ("P1Y", "Monthly"),
                            ("P1Y", "Annual"), ("P3Y", "Monthly"), ("P3Y", "Annual"),
                            ("P3Y", "Triennial"), ("", "OneTime")}:
                        errors.append(f"{path.name}: term/plan {rec['TermDuration']}/{rec['BillingPlan']}")
                    try:
                        start = parse_date(rec["EffectiveStartDate"])
                        end = parse_date(rec["EffectiveEndDate"])
                        iso = "T" in rec["EffectiveStartDate"]
                        if iso == (market in US_DATE_STYLE):
                            errors.append(f"{path.name}: date style {rec['EffectiveStartDate']}")
                        if end <= start:
                            errors.append(f"{path.name}: empty range {k}")
                    except ValueError as e:
                        errors.append(f"{path.name}: date {e}")
                    if seg == "Government" and market != "US":
                        errors.append(f"{path.name}: Government row")
                    if seg == "Charity" and market not in CHARITY_MARKETS:
                        errors.append(f"{path.name}: Charity row")
                    if seg == "Education" and market not in EDUCATION_MARKETS:
                        errors.append(f"{path.name}: Education row")
                    rk = (k, rec["TermDuration"], rec["BillingPlan"], seg, rec["EffectiveStartDate"])
                    if rk in keys:
                        errors.append(f"{path.name}: duplicate row {rk}")
                    keys.add(rk)
                month_stats["price_rows"][market] = n
        for k, rec in matrix.items():
            allowed = set(filter(None, rec["AllowedCountries"].split(";")))
            if allowed != seen_markets[k]:
                errors.append(f"{month} {k}: AllowedCountries {sorted(allowed)} "
                              f"!= markets with rows {sorted(seen_markets[k])}")
        stats[month] = month_stats
    seed_data = json.loads((out / "seed.json").read_text(encoding="utf-8"))
    partner_keys = {p["key"] for p in seed_data["partners"]}
    for c in seed_data["customers"]:
        if c["partner"] not in partner_keys:
            errors.append(f"customer {c['key']} has unknown partner")
    if errors:
        for e in errors[:50]:
            print("ERROR:", e, file=sys.stderr)
        raise SystemExit(f"verification failed: {len(errors)} error(s)")
    return stats


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------
def readme(cat: Catalog, months: dict[str, Month]) -> str:
    nov, dec = months[MONTHS[0]], months[MONTHS[1]]

    def d(s: Sku) -> str:
        return f"`{s.item}` {s.sku_title}"

    def first(pred, n, month=nov):
        return [s for s in sorted(month.skus.values(), key=lambda s: (s.product_id, s.sku_id))
                if pred(s)][:n]

    def bullets(items):
        return "\n".join(f"  - {x}" for x in items)

    not_sk = first(lambda s: "SK" not in nov.allowed[s.key] and "DE" in nov.allowed[s.key]
                   and s.segment == "Commercial" and s.key in dec.skus
                   and "SK" not in dec.allowed[s.key], 5)
    not_fr = first(lambda s: "FR" not in nov.allowed[s.key] and "DE" in nov.allowed[s.key]
                   and s.segment == "Commercial", 3)
    not_jp = first(lambda s: "JP" not in nov.allowed[s.key] and s.kind != "reservation"
                   and s.segment == "Commercial", 3)
    ended_nov = [cat.named(n) for n in ENDED_MID_NOVEMBER]
    ended_dec = [cat.named(n) for n in ENDED_MID_DECEMBER]
    overlap = [(cat.named(n), st) for n, st in OVERLAP_OFFERS]
    addons = sorted((s for s in nov.skus.values() if s.is_addon),
                    key=lambda s: (len(nov.prereqs[s.key]), s.product_id, s.sku_id))
    addon_small = addons[:2]
    audio = cat.named("Audio Conferencing")
    trials = first(lambda s: s.kind == "trial" and s.segment == "Commercial", 3)
    np_trial = first(lambda s: s.kind == "trial" and s.segment == "Charity", 1)
    seat = [cat.named(n) for n in SEAT_LIMITED]
    lifetime = first(lambda s: s.limit_type in ("Lifetime", "Concurrent") and s.kind != "trial", 2)
    gcc = [s for s in nov.skus.values() if s.segment == "Government"]
    edu = [s for s in nov.skus.values() if s.segment == "Education"]
    charity = first(lambda s: s.segment == "Charity" and s.kind == "license" and not s.is_addon, 3)
    charity_addon = first(lambda s: s.segment == "Charity" and s.is_addon, 1)
    res = first(lambda s: s.kind == "reservation", 10)
    perp = first(lambda s: s.kind == "perpetual", 10)
    swsub = first(lambda s: s.kind == "swsub", 5)
    usage = first(lambda s: s.kind == "usage", 1)
    saas = first(lambda s: s.kind == "saas", 1)
    placeholder = [r for r in nov.rows if r.start == PLACEHOLDER_START
                   and r.sku.key not in {c.key for c, _ in overlap}][:2]
    sort = lambda xs: sorted(xs, key=lambda s: (s.product_id, s.sku_id))

    new_dec = sort(s for k, s in dec.skus.items() if k not in nov.skus)
    removed_dec = sort(s for k, s in nov.skus.items() if k not in dec.skus)
    new_products = sorted({s.product_id for s in new_dec} - {s.product_id for s in nov.skus.values()})
    changed_rows = len([r for r in dec.rows
                        if (r.sku.key, r.term, r.plan) in dec.price_changes and not r.older])
    price_changes = sorted(dec.price_changes.items(),
                           key=lambda kv: (cat.skus[kv[0][0]].product_id, cat.skus[kv[0][0]].sku_id,
                                           TERM_ORDER[kv[0][1]], PLAN_ORDER[kv[0][2]]))
    maxk, maxv = next(iter(dec.max_override.items()))
    addk, extra = next(iter(dec.extra_prereqs.items()))
    sk_new = cat.skus[next(iter(dec.newly_sk))]
    total_rows = {m: sum(1 for _ in months[m].rows) for m in MONTHS}

    lines = []
    w = lines.append
    w("# Demo catalog (generated)")
    w("")
    w("This folder is the demo catalog of csp-commerce: two monthly price lists "
      "(`2026-11`, `2026-12`) in the Partner Center NCE file formats, and `seed.json` with "
      "demo partners and customers. **Do not edit the files by hand**: they are generated by "
      "`scripts/gen_demo_catalog.py` from the real Partner Center fixtures in "
      "`../shared/data/partner-center/` and regenerated byte-identically:")
    w("")
    w("```sh")
    w("python3 scripts/gen_demo_catalog.py            # from the repository root")
    w("python3 scripts/gen_demo_catalog.py --source ../shared/data/partner-center --out data/demo")
    w("python3 scripts/gen_demo_catalog.py --check    # only re-verify the files in data/demo")
    w("```")
    w("")
    w("The script uses the Python 3.11 standard library only. Every pseudo-random choice "
      "(prices, which SKUs a market leaves out, which rows carry the 1753 placeholder) is "
      "a SHA-256 hash of a stable key, never the clock or an unseeded RNG. After writing, it "
      "re-reads every CSV with the `csv` module and checks headers, prices, prerequisites, "
      "AllowedCountries and dates.")
    w("")
    w("## Files")
    w("")
    w("| file | content |")
    w("| --- | --- |")
    w("| `seed.json` | 4 partners (US, DE, SK, US GCC) and their customers, fixed UUIDs (uuid5) |")
    for m in MONTHS:
        w(f"| `{m}/offer-matrix.csv` | one row per SKU, all markets ({len(months[m].skus)} SKUs) |")
        w(f"| `{m}/pricelist-XX.csv` | one file per market {', '.join(MARKETS)} "
          f"({total_rows[m]} rows in all) |")
    w("")
    w("Markets and currencies: " + ", ".join(f"{m} {c}" for m, c in MARKETS.items()) +
      ". Prices are converted from USD at fixed rates (EUR 0.92, GBP 0.79, JPY 150) "
      "and rounded half-up to the currency's minor unit (JPY: whole yen). All price-list "
      "fields are quoted (`csv.QUOTE_ALL`); line ends are CRLF; encoding UTF-8 without BOM.")
    w("")
    w("- Dates: US, GB and JP files use `11/1/2026 12:00:00 AM` (M/D/YYYY h:mm:ss AM/PM); "
      "DE, FR, SK and IE use ISO 8601 `2026-11-01T00:00:00Z`. An open end is "
      "`12/31/9999 11:59:59 PM` / `9999-12-31T23:59:59Z`. A start may be the placeholder "
      "`1/1/1753 12:00:00 AM` / `1753-01-01T00:00:00Z` (about 5% of the rows).")
    w("- `pricelist-IE.csv` is in the **old format without the `Segment` column** (the header "
      "stops after `ERP Price`); it therefore holds commercial rows only.")
    w("- `Tags` are `;`-joined: `ProductType=OnlineServices|Azure|Software|Marketplace`, "
      "`BillingType=license|usage`, `Category=Enterprise|SmallBusiness|Nonprofit|Trial|Addon|"
      "Education|Government` and the bare tokens `Trial`, `Reservation` (needs a provisioning "
      "scope and Azure subscription id) and `Perpetual`.")
    w("- `AssetOwnershipLimitType`: `Seats` = max seats per customer, pooled over its "
      "subscriptions of the SKU; `Lifetime` / `Concurrent` come from the source offer's "
      "`limit`/`limitUnitOfMeasure`, which in Partner Center count *subscriptions* (e.g. one "
      "trial per customer for life, at most two concurrent Office 365 Business Premium "
      "subscriptions), not seats.")
    w("- Segments: `Commercial`, `Charity` (nonprofit; US DE GB FR), `Education` (US GB DE), "
      "`Government` (GCC; US only). Reservations are not sold in JP. Add-ons are only listed in "
      "a market where at least one of their prerequisites is listed.")
    w("")
    w("## Where the data comes from")
    w("")
    w("Sources (`../shared/data/partner-center/`): `partner-center-powershell/` (recorded "
      "Partner Center API responses, MIT licence) and `learn-docs-samples/` (samples of the "
      "Partner Center documentation, CC BY 4.0 / MIT code samples).")
    w("")
    w("| demo field | source |")
    w("| --- | --- |")
    w("| online-services SKUs | the 274 US offers of `GetPartnerOffer.response.json` (Jan 2019), one SKU each |")
    w("| ProductTitle | `product.name`; offers sharing `product.id` are SKUs of one product |")
    w("| ProductId | `CFQ7TTC0` + 4 base-36 chars of SHA-256(`product.id`), collision-checked; "
      "real NCE ids where a sample ties them to a product (below) |")
    w("| SkuId | `0001`, `0002`, ... per product in the order (offer name, offer id); "
      "Education, then GCC variants, then SKUs new in 2026-12 come after |")
    w("| SkuTitle / Description | offer `name` / `description` (full text in the matrix) |")
    w(f"| SkuDescription | the same description, cut at a sentence or word boundary to at most "
      f"{PRICE_DESCRIPTION_MAX} characters (keeps the folder under ~6 MB) |")
    w("| ProvisioningId | offer `id` (GUID); `PRODUCT:SKU` for reservations, software and "
      "SaaS; a uuid5 for derived variants |")
    w("| ProvisioningString | reservations: `ProvisioningVariables=` + the SKU's "
      "`provisioningVariables`; empty otherwise |")
    w("| MinLicenses / MaxLicenses | `minimumQuantity` / `maximumQuantity` |")
    w("| AssetOwnershipLimit(Type) | `limit` / `limitUnitOfMeasure` when Lifetime/Concurrent and > 0; "
      f"{SEAT_LIMIT} `Seats` on {len(SEAT_LIMITED)} popular SKUs (synthetic) |")
    w("| ProductSkuPreRequisites | add-ons: `prerequisiteOffers` that are offers of the catalog, as "
      "`PRODUCT/SKU` joined by `,`. Add-ons none of whose prerequisites resolve "
      f"({', '.join(cat.notes['addon_without_prereq'])}) are plain SKUs. |")
    w("| ProductSkuConversion | trials: the `conversionTargetOffers` in the catalog, as `PRODUCT/SKU` joined by `,` |")
    w("| Segment | `Charity` when `reselleeQualifications` has Nonprofit or the category is "
      "Nonprofit, else `Commercial`; Education / Government variants are derived |")
    w("| Tags Category | `category.name` (empty: `Enterprise`, or `Addon` for add-ons) |")
    w("| UnitOfMeasure | `unitType` (`Licenses`, `Add-On Licenses`, `Instances`, `Gigabytes`, `Usage-based`) |")
    w("| terms | `isTrial` -> `P1M`/`None` at 0; `billing: usage` (Microsoft Azure, "
      "MS-AZR-0145P) -> `P1M`/`Monthly` at 0; other offers (term 1 Year) -> `P1M`/`Monthly`, "
      "`P1Y`/`Monthly`, `P1Y`/`Annual`, and for a third of them `P3Y`/`Annual`, `P3Y`/`Triennial` |")
    w("| Azure reservations | `GetProductSku.json` (DZH318Z0BQ4C 0001/0002/00FF/01H7), "
      "`get-skus.txt` (DZH318Z0BQ5S 0001/0002), the order samples (DZH318Z0BQ36 004G/004J, "
      "DZH318Z0BQ4B 000Z, DZH318Z0BQ4Z 002L); product titles/descriptions from "
      "`GetProduct.json`. A `1 Year` SKU has `P1Y` Monthly/Annual rows, a `3 Years` SKU "
      "`P3Y` Monthly/Annual/Triennial. |")
    w("| software | products of `GetProduct.json` (productType Software) and BizTalk Server "
      "2016 Branch (`DG7GMGF0DWM3:0002`, checkout sample) |")
    w("| Marketplace | Barracuda WaaS - Medium Plan (`DZH318Z0BXWC:0002`, checkout sample) |")
    w("")
    w("Real NCE ids kept from the samples: `CFQ7TTC0LH18` is the product of Office 365 "
      "Business Essentials (get-skus.txt gives `provisioningId` 3b555118-..., its product GUID; "
      "its SKU 0001 is the commercial offer, NCE title *Microsoft 365 Business Basic*); "
      "`CFQ7TTC0LFLS:0002` is Azure Active Directory Premium P1 (create-a-cart / update-a-cart); "
      "`CFQ7TTC0LF8S:0001` is Office 365 E5 without Audio Conferencing (checkout-a-cart; the "
      "2019 catalog has only the nonprofit offer of that product, so the commercial SKU is "
      "built from the sample). Catalog items of the samples therefore resolve: "
      "`CFQ7TTC0LH18:0001`, `CFQ7TTC0LFLS:0002`, `CFQ7TTC0LF8S:0001`, `DZH318Z0BQ36:004G`, "
      "`DZH318Z0BQ4B:000Z`, `DZH318Z0BQ4Z:002L`, `DZH318Z0BQ4C:00FF`, `DG7GMGF0DWM3:0002`, "
      "`DZH318Z0BXWC:0002` (and `DZH318Z0BQ36:004J` from 2026-12). Sample ids whose titles the "
      "sources do not give are not in the catalog: `CFQ7TTC0LH0Z`, `CFQ7TTC0LFLX`, "
      "`CFQ7TTC0HDJX`, `CFQ7TTC0LFLZ`, `DG7GMGF0DWTL`, `DZH318Z0C0WF`, `DZH318Z0BQ3Q`.")
    w("")
    w("### What is synthetic")
    w("")
    w("- **All prices.** A monthly USD base price from SHA-256 of the offer's base name "
      "(the name without ` (Nonprofit Staff Pricing)`, ` Trial`, ...): 1.50-57.00 "
      "(add-ons 1.50-20.00; reservations 25-950; software 8-240; SaaS 20-57), "
      "rounded to 0.10. Segment factors: Charity x0.4, Education x0.3, Government x1.2; "
      "*Shift Campaign - 15%* offers x0.85. UnitPrice is the price of the whole term: "
      "P1M = 1.2 x monthly, P1Y = 12 x monthly (also when billed monthly), P3Y = 36 x "
      "monthly, perpetual = 30 x monthly; trials and the usage-billed Azure plan 0. "
      "ERP Price = UnitPrice x 1.2. PricingTierRangeMin `0`, PricingTierRangeMax empty.")
    w("- Generated product ids (`CFQ7TTC0....`) and the SKU ids of GUID offers; uuid5 "
      "ProvisioningIds of derived SKUs.")
    w("- Education variants (`<offer> for Faculty`) and GCC variants (`<offer> GCC`), with a "
      "sentence appended to the description.")
    w("- Software SKU titles (`... - 2 Core License Pack`, `... - 1 User CAL`, "
      "`... - Subscription`), min 1 / max 10000, the BizTalk and Barracuda descriptions, the "
      "Barracuda publisher name and the inferred titles *Virtual Machines NV Series* "
      "(DZH318Z0BQ36) and *Virtual Machines ND Series* (DZH318Z0BQ5S).")
    w("- Which SKUs a market leaves out, the seat limits of 300, the effective dates, the "
      "overlapping rows and everything in `seed.json`.")
    w("")
    w("## Special cases (2026-11 unless noted)")
    w("")
    w("Catalog items are written `PRODUCT:SKU`.")
    w("")
    w("- The seed's example: " + ", ".join(d(cat.named(n)) for n in NOT_IN_SK)
      + " is not sold in SK in either month (sold in DE), so the Slovak partner cannot sell it to "
      "its German customer Lamna.")
    w("- Not sold in SK in either month (but sold in DE), so a Slovak partner cannot sell them "
      "to its German customer:")
    w(bullets(d(s) for s in not_sk))
    w("- Not sold in FR:")
    w(bullets(d(s) for s in not_fr))
    w("- Not sold in JP (other than reservations, which JP never lists):")
    w(bullets(d(s) for s in not_jp))
    w(f"- Ended mid-month (EffectiveEndDate {MID_MONTH_END[MONTHS[0]].date()} in every market; "
      "gone from 2026-12):")
    w(bullets(d(s) for s in ended_nov))
    w(f"- Ended mid-month in 2026-12 (EffectiveEndDate {MID_MONTH_END[MONTHS[1]].date()}):")
    w(bullets(d(s) for s in ended_dec))
    w("- Overlapping rows (US and DE files, both months): an older row (open end, price x0.9) "
      "plus the current row (start on the 1st of the month, open end) for the same "
      "product/sku/term/plan/segment, for P1M/Monthly, P1Y/Monthly and P1Y/Annual; the "
      "current row wins (latest start):")
    w(bullets(f"{d(s)}: older row starts {st.date()}" for s, st in overlap))
    w("- Placeholder start 1753 on a single row (no overlap), e.g.:")
    w(bullets(f"{r.market} `{r.sku.item}` {r.term or '-'}/{r.plan}" for r in placeholder))
    w("- Add-ons with prerequisites (fewest prerequisites first):")
    w(bullets(f"{d(s)} needs one of {', '.join('`' + p + '`' for p in nov.prereqs[s.key])}"
              for s in addon_small))
    w(bullets([f"{d(audio)} needs one of {len(nov.prereqs[audio.key])} bases, e.g. "
               + ", ".join("`" + p + "`" for p in nov.prereqs[audio.key][:3])]))
    w("- Trials (P1M / None, price 0, `Trial` tag, `Lifetime` limit 1):")
    w(bullets([d(s) + (f" -> converts to `{nov.skus[s.conversion_keys[0]].ref}`"
                       if s.conversion_keys and s.conversion_keys[0] in nov.skus else "")
               for s in trials + np_trial]))
    w(f"- Seat-limited ({SEAT_LIMIT} `Seats`):")
    w(bullets(d(s) for s in seat))
    w("- Subscription-count limits from the source (`Concurrent` / `Lifetime`), e.g.:")
    w(bullets(f"{d(s)}: {s.limit} {s.limit_type}" for s in lifetime))
    w("- GCC only (segment Government, US only):")
    w(bullets(d(s) + (" (add-on)" if s.is_addon else "") for s in sort(gcc)))
    w("- Education (segment Education, US GB DE):")
    w(bullets(d(s) + (" (add-on)" if s.is_addon else "") for s in sort(edu)))
    w("- Nonprofit (segment Charity, US DE GB FR), e.g.:")
    w(bullets([d(s) for s in charity + charity_addon + np_trial]))
    w("- Azure reservations (`Reservation` tag, `ProvisioningVariables=Scope,SubscriptionId...`; not in JP):")
    w(bullets(f"{d(s)} ({s.reservation_term})" for s in res))
    w("- Azure plan, usage-billed (P1M / Monthly, price 0): "
      + ", ".join(d(s) + f" (ProvisioningId {s.provisioning_id})" for s in usage))
    w("- Perpetual software (TermDuration empty, BillingPlan `OneTime`, `Perpetual` tag):")
    w(bullets(d(s) for s in perp))
    w("- Software subscriptions (P1Y/Annual, P3Y/Annual, P3Y/Triennial):")
    w(bullets(d(s) for s in swsub))
    w("- Marketplace (third-party publisher): "
      + ", ".join(f"{d(s)} by {s.publisher}" for s in saas))
    w("")
    w("## Changes from 2026-11 to 2026-12")
    w("")
    w(f"- New SKUs ({len(new_dec)}; new product{'s' if len(new_products) != 1 else ''} "
      f"{', '.join('`' + p + '`' for p in new_products)}):")
    w(bullets(d(s) for s in new_dec))
    w(f"- Removed SKUs ({len(removed_dec)}; the first three had already ended mid-November):")
    w(bullets(d(s) for s in removed_dec))
    w(f"- Ended inside 2026-12 (EffectiveEndDate {MID_MONTH_END[MONTHS[1]].date()}):")
    w(bullets(d(s) for s in ended_dec))
    w(f"- MaxLicenses changed: {d(cat.skus[maxk])}: {cat.skus[maxk].max_q} -> {maxv}")
    w(f"- Extra prerequisite: add-on {d(cat.skus[addk])} also accepts "
      f"`{cat.skus[extra[0]].ref}` ({cat.skus[extra[0]].sku_title})")
    w(f"- Newly sold in SK: {d(sk_new)}")
    w(f"- New prices: {len(price_changes)} product/sku/term/plan combinations "
      f"({changed_rows} price rows over all markets, "
      f"{changed_rows * 100 // max(1, total_rows[MONTHS[1]])}% of the rows):")
    w(bullets(f"`{cat.skus[k].item}` {t or '-'}/{p}: x{f}" for (k, t, p), f in price_changes))
    w("- Every row of 2026-12 starts on 2026-12-01 (or 1753 / the older overlap start).")
    w("")
    w("## seed.json")
    w("")
    w("| partner | customer | country | qualifications | agreement |")
    w("| --- | --- | --- | --- | --- |")
    sd = seed()
    for c in sd["customers"]:
        quals = ", ".join(f"{q['kind']} ({q['vetting']})" for q in c["qualifications"]) or "none"
        w(f"| {c['partner']} | `{c['key']}` {c['company_name']} | {c['country']} | {quals} | "
          f"{'accepted ' + c['agreement']['accepted_at'] if c['agreement'] else 'none'} |")
    w("")
    w("Partners: " + "; ".join(f"`{p['key']}` {p['name']} ({p['country']}, {p['currency']}"
                               f"{', GCC' if p['gcc'] else ''})" for p in sd["partners"]) + ".")
    w("All ids are uuid5 over a fixed namespace and the key, so they never change.")
    w("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=None,
                    help="Partner Center fixtures (default: ../shared/data/partner-center from the repo root)")
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory (default: data/demo in the repo root)")
    ap.add_argument("--check", action="store_true", help="only verify an existing output")
    args = ap.parse_args()
    source = args.source or (REPO_ROOT / "../shared/data/partner-center")
    out = args.out or (REPO_ROOT / "data/demo")
    source, out = source.resolve(), out.resolve()

    if not args.check:
        cat = Catalog(Sources(source))
        months = {MONTHS[0]: Month(cat, MONTHS[0])}
        months[MONTHS[1]] = Month(cat, MONTHS[1])
        files: dict[Path, bytes] = {}
        for m, month in months.items():
            files[out / m / "offer-matrix.csv"] = csv_bytes(MATRIX_HEADER, month.matrix_rows(), False)
            for market in MARKETS:
                header = PRICE_HEADER_OLD if market in OLD_FORMAT else PRICE_HEADER
                files[out / m / f"pricelist-{market}.csv"] = csv_bytes(
                    header, month.price_rows(market), True)
        files[out / "seed.json"] = (json.dumps(seed(), indent=2, ensure_ascii=False) + "\n").encode()
        files[out / "README.md"] = readme(cat, months).encode()
        for m in MONTHS:  # drop stale CSVs of a previous run
            for old in (out / m).glob("*.csv") if (out / m).exists() else []:
                if old not in files:
                    old.unlink()
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    stats = verify(out)
    for m, s in stats.items():
        print(f"{m}: {s['matrix_rows']} SKUs; price rows "
              + ", ".join(f"{k} {v}" for k, v in s["price_rows"].items()))
    print(f"ok: {out}")


if __name__ == "__main__":
    main()
