"""Synthetic Shanxi populations in the registry import format (imports/FORMAT.md).

Writes ``entities``, ``records`` and ``inspectors`` (JSON Lines or CSV) and ``truth.csv``
(the hidden true risk per entity) into one folder, streaming: entities are drawn in
batches — population-level quantities (type, region, industry, dates, capital, latent
risk, record counts) vectorised with numpy, the text and the dated records per entity
in Python — and written batch by batch, so memory stays flat whatever ``n`` is.

Everything follows from ``seed`` and the reference date (no clock, no hash order): the
same arguments give byte-identical files, and CSV and JSON Lines carry the same rows.

Records are generated from the true risk so that scoring has something to find:
penalties, abnormal-list entries, complaints, all-zero annual reports, frequent changes
and problem-finding inspections all grow with it. Codes are unique by construction
(each organisation-code body is an affine permutation of the entity index), so no set
of used codes is kept."""

from __future__ import annotations

import csv
import random
import sys
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import orjson
from tqdm import tqdm

from services.registry.generator import shanxi as sx
from shared.credit_code import CHARSET, make_legacy, make_uscc
from shared.events import EntityType

REFERENCE_DATE = date(2026, 11, 1)
_NL = orjson.OPT_APPEND_NEWLINE
BATCH_SIZE = 16_384

ENTITY_FIELDS = (
    "code",
    "name",
    "entity_type",
    "legal_representative",
    "address",
    "region_code",
    "industry_code",
    "registered_on",
    "registered_capital",
    "status",
    "licences",
    "tags",
)
RECORD_KINDS = (
    "registration",
    "change",
    "filing",
    "equity_pledge",
    "licence",
    "penalty",
    "abnormal_listed",
    "abnormal_removed",
    "dishonest_listed",
    "dishonest_removed",
    "inspection_result",
    "complaint",
    "annual_report",
    "sampling_failure",
    "department_push",
)
RECORD_FIELDS = ("record_id", "code", "kind", "occurred_on", "source_department", "payload")
INSPECTOR_FIELDS = (
    "certificate_no",
    "name",
    "department",
    "region_code",
    "certificate_expires_on",
    "specialties",
    "status",
    "is_professional",
    "avoid_entities",
    "avoid_regions",
    "avoid_persons",
)

Format = Literal["jsonl", "csv"]

# Entity-type indices, in the order of sx.ENTITY_TYPE_SHARES.
TYPES = tuple(sx.ENTITY_TYPE_SHARES)
ENT, IND, COOP, SOC, PROD, PROJ, BEH = range(7)
assert get_args(EntityType) == TYPES, "shares must follow the event contract's order"

_DATE_BASE = date(1990, 1, 1).toordinal()
_DATE_END = date(2040, 12, 31).toordinal()
_ISO = [date.fromordinal(o).isoformat() for o in range(_DATE_BASE, _DATE_END + 1)]
_YEAR = [date.fromordinal(o).year for o in range(_DATE_BASE, _DATE_END + 1)]
_JAN1 = {y: date(y, 1, 1).toordinal() for y in range(1990, 2042)}
_ORD_2015 = _JAN1[2015]
_ORD_2016 = _JAN1[2016]
_ORD_2019 = _JAN1[2019]
# Organisations registered before GB 32100 took effect keep their old 9-digit
# organisation code inside the credit code; later ones got the "MA…" series.
_ORD_USCC = date(2015, 10, 1).toordinal()

# Organisation-code bodies: two disjoint spaces ("MA" + 6 chars of the charset; 8
# digits) plus the 8-digit serial of legacy registration numbers.
_MA_SPACE = 31**6
_DIGIT_SPACE = 10**8
_T3 = [a + b + c for a in CHARSET for b in CHARSET for c in CHARSET]  # 31**3 strings

_NICE_CAPITAL = np.array(
    [1, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 10000, 20000, 50000],
    dtype=float,
)


def _cum(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


@dataclass(frozen=True, slots=True)
class _County:
    code: str
    name: str
    city_idx: int
    city_code: str
    city_name: str
    city_short: str
    is_district: bool
    name_prefix: str  # as it heads a name: "太原市小店区", "沁水县", "晋城市城区"
    addr_prefix: str  # "山西省太原市小店区"
    bureau: str  # county bureau (分局 for districts)
    city_bureau: str
    civil_affairs: str


def _counties() -> list[_County]:
    out = []
    city_codes = list(sx.CITIES)
    for code, (name, _) in sx.COUNTIES.items():
        city_code = sx.city_of(code)
        city_name, city_short, _, _ = sx.CITIES[city_code]
        district = name.endswith("区")
        short = name[:-1] if district and len(name) > 2 else name
        bureau = f"{city_name}市场监督管理局{short}分局" if district else f"{name}市场监督管理局"
        out.append(
            _County(
                code=code,
                name=name,
                city_idx=city_codes.index(city_code),
                city_code=city_code,
                city_name=city_name,
                city_short=city_short,
                is_district=district,
                name_prefix=f"{city_name}{name}" if district else name,
                addr_prefix=f"{sx.PROVINCE_NAME}{city_name}{name}",
                bureau=bureau,
                city_bureau=f"{city_name}市场监督管理局",
                civil_affairs=f"{city_name}民政局",
            )
        )
    return out


COUNTIES = _counties()
COUNTY_CODES = frozenset(c.code for c in COUNTIES)
CITY_CODES = tuple(sx.CITIES)


def _county_probabilities() -> np.ndarray:
    city_weight_sum: dict[str, float] = {}
    for code, (_, w) in sx.COUNTIES.items():
        city_weight_sum[sx.city_of(code)] = city_weight_sum.get(sx.city_of(code), 0.0) + w
    p = np.array(
        [
            sx.CITIES[c.city_code][2]
            * sx.CITIES[c.city_code][3]
            * sx.COUNTIES[c.code][1]
            / city_weight_sum[c.city_code]
            for c in COUNTIES
        ]
    )
    return p / p.sum()


def city_weights() -> list[float]:
    """Share of the population per city, in CITY_CODES order."""
    p = _county_probabilities()
    w = [0.0] * len(CITY_CODES)
    for c, pc in zip(COUNTIES, p, strict=True):
        w[c.city_idx] += float(pc)
    return w


def inspector_count(n: int) -> list[int]:
    """Inspectors per city: about one per 500 entities, at least two per city."""
    total = n / 500
    return [max(2, round(total * w)) for w in city_weights()]


def _industry_probabilities() -> dict[int, np.ndarray]:
    attr = {ENT: "enterprise", IND: "individual", COOP: "cooperative", SOC: "social"}
    out = {}
    for t, a in attr.items():
        w = np.array([getattr(ind, a) for ind in sx.INDUSTRIES], dtype=float)
        out[t] = w / w.sum()
    return out


def _year_probabilities(ref: date) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Registration-year distribution per market-entity type: growth over time, a jump
    with the 2014 commercial-registration reform, the reference year only in part."""
    years = np.arange(1995, ref.year + 1)
    frac = np.ones(len(years))
    frac[-1] = (ref.toordinal() - _JAN1[ref.year] + 1) / 365.0
    base = np.exp(0.10 * (years - 1995))
    reform = np.where(years >= 2014, 1.7, 1.0)
    out = {}
    for t, extra in (
        (ENT, np.ones(len(years))),
        (IND, np.where(years >= 2014, 1.4, 0.8)),
        (COOP, np.where(years >= 2007, np.where(years <= 2018, 3.0, 1.2), 0.0)),
        (SOC, 1.0 / base),
    ):
        w = base * reform * extra * frac
        out[t] = (years, w / w.sum())
    return out


def _js(obj: Any) -> bytes:
    return orjson.dumps(obj)


# One record line; every %s is either ASCII or a vocabulary string checked by
# _check_vocabulary, and the payload is JSON already (CSV: quoted, quotes doubled — what
# csv.writer would write).
_RECORD_LINE = {
    "jsonl": (
        b'{"record_id":"R%08d-%03d","code":"%s","kind":"%s","occurred_on":"%s",'
        b'"source_department":"%s","payload":%s}\n'
    ),
    "csv": b'R%08d-%03d,%s,%s,%s,%s,"%s"\n',
}
_ISO_B = [s.encode() for s in _ISO]


def _check_vocabulary() -> None:
    """Record lines are assembled from a byte template for speed: make sure no
    department name could need JSON escaping or CSV quoting."""
    names = [s for c in COUNTIES for s in (c.bureau, c.city_bureau, c.civil_affairs)]
    names += [
        issuer.format(city=c.city_bureau, county=c.bureau)
        for issuer in sx.LICENCE_ISSUERS.values()
        for c in COUNTIES
    ]
    names += [dept.format(city=c.city_bureau) for _, dept in sx.SAMPLING_LEVELS for c in COUNTIES]
    names += [
        dept.format(city_name=city_name)
        for dept, _ in (*sx.PUSHES_ADVERSE, sx.PUSH_POSITIVE)
        for city_name, _, _, _ in sx.CITIES.values()
    ]
    for s in names:
        if orjson.dumps(s) != b'"' + s.encode() + b'"' or any(ch in s for ch in ',"\r\n'):
            raise AssertionError(f"department name needs escaping: {s!r}")


def output_paths(out_dir: Path, fmt: Format) -> dict[str, Path]:
    """The files ``generate`` writes for a format."""
    out_dir = Path(out_dir)
    return {
        "entities": out_dir / f"entities.{fmt}",
        "records": out_dir / f"records.{fmt}",
        "inspectors": out_dir / f"inspectors.{fmt}",
        "truth": out_dir / "truth.csv",
    }


class _Sink:
    """Serialises rows for one of the two formats; writes once per batch."""

    def __init__(self, out_dir: Path, fmt: Format) -> None:
        self.fmt = fmt
        self.paths = output_paths(out_dir, fmt)
        self._truth = open(self.paths["truth"], "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._truth.write("code,true_risk\n")
        self._files: dict[str, Any] = {}
        self._csv: dict[str, Any] = {}
        for kind, fields in (
            ("entities", ENTITY_FIELDS),
            ("records", RECORD_FIELDS),
            ("inspectors", INSPECTOR_FIELDS),
        ):
            if fmt == "jsonl":
                self._files[kind] = open(self.paths[kind], "wb")  # noqa: SIM115
            elif kind == "records":
                self._files[kind] = open(self.paths[kind], "wb")  # noqa: SIM115
                self._files[kind].write(",".join(fields).encode() + b"\n")
            else:
                f = open(self.paths[kind], "w", encoding="utf-8", newline="")  # noqa: SIM115
                self._files[kind] = f
                self._csv[kind] = csv.writer(f, lineterminator="\n")
                self._csv[kind].writerow(fields)
        # JSON Lines go straight into byte buffers: orjson hands back over-allocated
        # bytes objects, so holding one per row would cost kilobytes each.
        self.entities: Any = bytearray() if fmt == "jsonl" else []
        self.records = bytearray()
        self.inspectors: Any = bytearray() if fmt == "jsonl" else []
        self.truth: list[str] = []

    def flush(self) -> None:
        for kind in ("entities", "records", "inspectors"):
            rows = getattr(self, kind)
            if not rows:
                continue
            if isinstance(rows, bytearray):
                self._files[kind].write(rows)
            else:
                self._csv[kind].writerows(rows)
            rows.clear()
        if self.truth:
            self._truth.write("".join(self.truth))
            self.truth.clear()

    def close(self) -> None:
        self.flush()
        for f in self._files.values():
            f.close()
        self._truth.close()


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(v)
    if isinstance(v, dict):
        return orjson.dumps(v).decode()
    return str(v)


class _Generator:
    def __init__(self, *, n: int, seed: int, today: date, sink: _Sink) -> None:
        self.n = n
        self.seed = seed
        self.today = today
        self.ref = today.toordinal()
        self.sink = sink
        self.jsonl = sink.fmt == "jsonl"
        self.npr = np.random.Generator(np.random.PCG64(seed))
        self.rnd = random.Random(seed)
        setup = random.Random(f"setup-{seed}")
        self.side = random.Random(f"reservoir-{seed}")
        self.records_written = 0

        self.county_p = _county_probabilities()
        self.industry_p = _industry_probabilities()
        self.year_p = _year_probabilities(today)

        # Code permutations: x -> (a*x + b) mod M is a bijection when gcd(a, M) = 1.
        def affine(m: int, bad: tuple[int, ...]) -> tuple[int, int]:
            while True:
                a = setup.randrange(m // 7, m)
                if all(a % p for p in bad):
                    return a, setup.randrange(m)

        self.ma_ab = affine(_MA_SPACE, (31,))
        self.digit_ab = affine(_DIGIT_SPACE, (2, 5))
        self.legacy_ab = affine(_DIGIT_SPACE, (2, 5))
        self.object_counter = dict.fromkeys(sx.OBJECT_TYPES, 0)

        self.surnames = [s for s, _ in sx.SURNAMES]
        self.surname_cum = _cum([w for _, w in sx.SURNAMES])
        self.given = sx.GIVEN_CHARS
        tc = sx.TRADE_NAME_CHARS
        self.trade_names = [a + b for a in tc for b in tc if a != b]

        # 一址多照: registration-agent addresses shared by many young, small entities.
        self.shared_pool: list[list[str]] = []
        for ci, c in enumerate(COUNTIES):
            expected = n * float(self.county_p[ci]) * 0.05
            size = 2 + int(expected / 40)
            pool = []
            for _ in range(size):
                road = setup.choice(sx.ROADS)
                pool.append(
                    f"{c.addr_prefix}{road}{setup.randint(1, 200)}号"
                    f"{setup.choice(sx.BUILDINGS)}大厦{setup.randint(3, 28)}层"
                    f"{setup.randint(1, 30):02d}室"
                )
            self.shared_pool.append(pool)
        # Nominee legal representatives (职业法人) behind many risky entities.
        self.nominees = [self._person(setup) for _ in range(max(10, n // 3000))]

        self.reservoir: list[list[tuple[str, str]]] = [[] for _ in CITY_CODES]
        self.reservoir_seen = [0] * len(CITY_CODES)
        self.decision_serial: dict[tuple[str, int], int] = {}
        self._tag_cache: dict[tuple[int, tuple[str, ...]], list[str]] = {}
        _check_vocabulary()
        self._encoded: dict[str, bytes] = {k: k.encode() for k in RECORD_KINDS}
        self._build_payloads()

    # ----------------------------------------------------------------- vocabularies
    def _build_payloads(self) -> None:
        self.ar_payload = {
            (y, z): _js({"year": y, "all_zero": z})
            for y in range(1990, 2042)
            for z in (False, True)
        }
        self.reg_payload = _js({"type": "设立登记"})
        self.abn_report = _js({"reason": sx.ABNORMAL_REASON_REPORT})
        self.abn_unreach = _js({"reason": sx.ABNORMAL_REASON_UNREACHABLE})
        self.abn_rm_report = _js({"reason": sx.ABNORMAL_REMOVAL_REPORT})
        self.abn_rm_unreach = [_js({"reason": r}) for r in sx.ABNORMAL_REMOVAL_UNREACHABLE]
        self.dis_abn = _js({"reason": sx.DISHONEST_REASON_ABNORMAL})
        self.dis_pen = _js({"reason": sx.DISHONEST_REASON_PENALTY})
        self.dis_rm = _js({"reason": sx.DISHONEST_REMOVAL})
        self.res_clean = [_js({"result": r}) for r, _ in sx.RESULTS_CLEAN]
        self.res_clean_cum = _cum([w for _, w in sx.RESULTS_CLEAN])
        self.res_problem = [_js({"result": r}) for r, _ in sx.RESULTS_PROBLEM]
        self.res_problem_cum = _cum([w for _, w in sx.RESULTS_PROBLEM])
        self.res_unreach_i = [r for r, _ in sx.RESULTS_PROBLEM].index(sx.RESULT_UNREACHABLE)
        self.res_follow_i = [r for r, _ in sx.RESULTS_PROBLEM].index(sx.RESULT_FOLLOW_UP)
        self.complaints = {
            fam: [
                _js({"channel": ch, "category": cat})
                for ch in sx.COMPLAINT_CHANNELS
                for cat in cats
            ]
            for fam, cats in [*sx.COMPLAINT_CATEGORIES.items(), ("", sx.COMPLAINT_DEFAULT)]
        }
        self.change = {
            t: ([_js({"field": f}) for f, _ in fields], _cum([w for _, w in fields]))
            for t, fields in (
                (ENT, sx.CHANGE_FIELDS_ENTERPRISE),
                (COOP, sx.CHANGE_FIELDS_ENTERPRISE),
                (SOC, sx.CHANGE_FIELDS_ENTERPRISE),
                (IND, sx.CHANGE_FIELDS_INDIVIDUAL),
            )
        }
        self.filings = [_js({"item": it}) for it in sx.FILING_ITEMS]
        self.push_adverse = [
            [
                (dept.format(city_name=city[0]), _js({"category": cat, "adverse": True}))
                for dept, cat in sx.PUSHES_ADVERSE
            ]
            for city in sx.CITIES.values()
        ]
        self.push_positive_dept = [
            sx.PUSH_POSITIVE[0].format(city_name=city[0]) for city in sx.CITIES.values()
        ]
        self.industries = sx.INDUSTRIES
        fam_mult_pen = {
            "catering": 1.8,
            "food_retail": 1.5,
            "food_mfg": 1.6,
            "fuel": 1.5,
            "eyewear": 1.3,
            "online": 1.5,
            "advertising": 1.5,
            "association": 0.2,
            "education": 0.6,
            "care": 0.5,
            "agri": 0.5,
        }
        fam_mult_comp = {
            "catering": 2.5,
            "food_retail": 1.8,
            "services": 2.0,
            "online": 2.5,
            "realty": 2.0,
            "finance": 2.0,
            "fuel": 1.5,
            "eyewear": 1.5,
            "education": 1.5,
            "heavy": 0.3,
            "mining": 0.3,
            "construction": 0.6,
            "agri": 0.3,
            "association": 0.2,
            "utility": 0.5,
        }
        self.ind_pen_mult = np.array([fam_mult_pen.get(i.family, 1.0) for i in sx.INDUSTRIES])
        self.ind_comp_mult = np.array([fam_mult_comp.get(i.family, 1.0) for i in sx.INDUSTRIES])
        self.ind_risk = np.array([i.risk for i in sx.INDUSTRIES])
        self.ind_capital = np.array([i.capital for i in sx.INDUSTRIES])
        self.ind_licensed = np.array([bool(i.licences) for i in sx.INDUSTRIES])
        self.ind_sampled = np.array(
            [
                2.0
                if i.product and i.family in ("food_mfg", "heavy", "product", "special_equipment")
                else 1.0
                if i.product
                else 0.0
                for i in sx.INDUSTRIES
            ]
        )
        self.ind_social_kind = [i.social_kind for i in sx.INDUSTRIES]
        self.sampling_items = sx.SAMPLING_ITEMS
        self.code_of_industry = {ind.code: i for i, ind in enumerate(sx.INDUSTRIES)}
        self.year_start = np.array([_JAN1[y] for y in range(1995, self.today.year + 2)])
        self.penalty_reasons = sx.PENALTY_REASONS
        self.object_subjects = {t: sx.OBJECT_SUBJECTS[TYPES[t]] for t in (PROD, PROJ, BEH)}

    def _person(self, rnd: random.Random) -> str:
        s = self.surnames[bisect(self.surname_cum, rnd.random() * self.surname_cum[-1])]
        g = self.given
        if rnd.random() < 0.3:
            return s + g[int(rnd.random() * len(g))]
        return s + g[int(rnd.random() * len(g))] + g[int(rnd.random() * len(g))]

    def _tags(self, ind_i: int, licences: tuple[str, ...]) -> list[str]:
        key = (ind_i, licences)
        tags = self._tag_cache.get(key)
        if tags is None:
            seen: dict[str, None] = dict.fromkeys(self.industries[ind_i].tags)
            for lic in licences:
                seen.update(dict.fromkeys(sx.LICENCE_TAGS[lic]))
            tags = list(seen)
            self._tag_cache[key] = tags
        return tags

    # ----------------------------------------------------------------- population draws
    def _draw(self, size: int) -> dict[str, list[Any]]:
        g = self.npr
        ref = self.ref
        types = g.choice(7, size=size, p=np.array(list(sx.ENTITY_TYPE_SHARES.values())))
        county = g.choice(len(COUNTIES), size=size, p=self.county_p)
        industry = np.zeros(size, dtype=np.int64)
        subject = np.zeros(size, dtype=np.int64)
        reg = np.full(size, ref, dtype=np.int64)
        for t in (ENT, IND, COOP, SOC):
            idx = np.flatnonzero(types == t)
            if not len(idx):
                continue
            industry[idx] = g.choice(len(sx.INDUSTRIES), size=len(idx), p=self.industry_p[t])
            years, yp = self.year_p[t]
            y = g.choice(years, size=len(idx), p=yp)
            lo = self.year_start[y - 1995]
            hi = np.minimum(self.year_start[y - 1995 + 1], ref + 1)
            reg[idx] = lo + (g.random(len(idx)) * (hi - lo)).astype(np.int64)
        for t in (PROD, PROJ, BEH):
            idx = np.flatnonzero(types == t)
            subjects = self.object_subjects[t]
            subject[idx] = g.integers(0, len(subjects), size=len(idx))
            lookup = np.array([self.code_of_industry[c] for c, _ in subjects])
            industry[idx] = lookup[subject[idx]]
        market = types <= SOC
        age = (ref - reg) / 365.25

        # Registered capital (万元), log-normal by type.
        z = g.standard_normal(size)
        cap = np.zeros(size)
        m = types == ENT
        cap[m] = np.exp(np.log(100.0) + 1.4 * z[m]) * self.ind_capital[industry[m]]
        m = types == IND
        cap[m] = np.exp(np.log(3.0) + 1.1 * z[m]) * np.sqrt(self.ind_capital[industry[m]])
        cap[m & (g.random(size) < 0.12)] = 0.0
        m = types == COOP
        cap[m] = np.exp(np.log(80.0) + 1.2 * z[m])
        m = types == SOC
        soc_kind = np.array(
            [{"1": 5.0, "2": 10.0, "3": 300.0}.get(k, 5.0) for k in self.ind_social_kind]
        )
        cap[m] = np.exp(np.log(soc_kind[industry[m]]) + 0.6 * np.abs(z[m]))
        nice = np.isin(types, (ENT, COOP)) & (g.random(size) < 0.6)
        nearest = np.abs(np.log(cap[nice, None] + 1e-9) - np.log(_NICE_CAPITAL[None, :])).argmin(
            axis=1
        )
        cap[nice] = _NICE_CAPITAL[nearest]
        cap = np.where(types == IND, np.round(cap, 1), np.round(cap, 2))

        year = np.array(_YEAR)[reg - _DATE_BASE]
        shared = g.random(size) < np.select(
            [(types == ENT) & (year >= 2014), types == ENT, types == IND, types == COOP],
            [0.10, 0.02, 0.01, 0.06],
            0.0,
        )
        nominee = market & (types != SOC) & (g.random(size) < 0.012 + 0.25 * shared)
        unlicensed = market & self.ind_licensed[industry] & (g.random(size) < 0.04)
        legacy = np.isin(types, (ENT, IND)) & (year < 2015) & (g.random(size) < 0.04)

        # Hidden true risk: logistic of latent factors.
        base = np.array([-3.4, -3.6, -2.9, -3.9, -2.6, -2.8, -2.4])[types]
        young = np.select([age < 1, age < 3, age < 5], [1.0, 0.6, 0.3], 0.0) * market
        tiny = ((types == ENT) & (cap < 10)).astype(float)
        big = ((types == ENT) & (cap >= 1000)).astype(float)
        logit = (
            base
            + self.ind_risk[industry]
            + 1.0 * young
            + 0.5 * tiny
            - 0.4 * big
            + 1.0 * shared
            + 0.9 * nominee
            + 0.7 * unlicensed
            + 0.85 * g.standard_normal(size)
            + 0.35 * g.standard_normal(size)
        )
        risk = 1.0 / (1.0 + np.exp(-logit))

        # Status and the date it took effect (records stop there).
        p_dereg = np.select(
            [types == ENT, types == IND, types == COOP, types == SOC],
            [0.02 + 0.010 * age, 0.03 + 0.015 * age, 0.02 + 0.015 * age, 0.01 + 0.003 * age],
            0.0,
        )
        p_dereg = np.minimum(p_dereg, 0.3)
        p_rev = np.where(
            np.isin(types, (ENT, COOP)),
            0.008 + 0.5 * risk**2,
            np.where(types == IND, 0.15 * risk**2, 0.0),
        )
        u = g.random(size)
        status = np.zeros(size, dtype=np.int64)  # 0 active, 1 deregistered, 2 revoked
        status[(u < p_dereg) & (reg + 180 < ref)] = 1
        status[(u >= p_dereg) & (u < p_dereg + p_rev) & (reg + 3 * 365 < ref)] = 2
        lo = np.where(status == 2, reg + 3 * 365, reg + 180)
        end = np.where(status > 0, lo + (g.random(size) * (ref - lo)).astype(np.int64), ref)
        end = np.minimum(end, ref)

        yrs = np.maximum(end - reg, 0) / 365.25
        yrs16 = np.maximum(end - np.maximum(reg + 30, _ORD_2016), 0) / 365.25
        yrs15 = np.maximum(end - np.maximum(reg, _ORD_2015), 0) / 365.25
        is_ent = types == ENT
        ind_mult = np.where(types == IND, 0.7, 1.0)
        r = risk
        objects = ~market
        lam = {
            "pen": yrs * (0.002 + 0.10 * r**1.3) * self.ind_pen_mult[industry] * market,
            "comp": yrs * (0.008 + 0.25 * r) * self.ind_comp_mult[industry] * ind_mult * market
            + objects * (types == BEH) * (0.2 + 2.0 * r),
            "chg": yrs
            * (0.03 + 0.35 * r)
            * np.select([types == IND, types == SOC], [0.4, 0.3], 1.0)
            * market,
            "insp": yrs16
            * (0.02 + 0.06 * r)
            * np.where(self.ind_licensed[industry], 1.6, 1.0)
            * market
            + objects * 0.2,
            "cl": yrs * (0.001 + 0.03 * r + 0.01 * shared) * (market & (types != SOC)),
            "sf": yrs15 * (0.004 + 0.15 * r) * self.ind_sampled[industry] * market
            + (types == PROD) * (0.05 + 0.5 * r),
            "ep": yrs * 0.004 * is_ent,
            "fil": yrs * 0.02 * is_ent,
            "push": yrs * (0.001 + 0.03 * r) * (market & (types != SOC)),
        }
        counts = {k: np.minimum(g.poisson(v), 40) for k, v in lam.items()}
        out: dict[str, list[Any]] = {
            "type": types.tolist(),
            "county": county.tolist(),
            "industry": industry.tolist(),
            "subject": subject.tolist(),
            "reg": reg.tolist(),
            "end": end.tolist(),
            "cap": cap.tolist(),
            "shared": shared.tolist(),
            "nominee": nominee.tolist(),
            "unlicensed": unlicensed.tolist(),
            "legacy": legacy.tolist(),
            "risk": risk.tolist(),
            "status": status.tolist(),
        }
        for k, v in counts.items():
            out[k] = v.tolist()
        return out

    # ----------------------------------------------------------------- text
    def _address(self, c: _County, t: int) -> str:
        rnd = self.rnd.random
        if rnd() < (0.06 if c.is_district else 0.3):
            s = self.surnames[bisect(self.surname_cum, rnd() * self.surname_cum[-1])]
            return (
                f"{c.addr_prefix}{sx.TOWNS[int(rnd() * len(sx.TOWNS))]}{s}"
                f"{sx.VILLAGE_SUFFIXES[int(rnd() * len(sx.VILLAGE_SUFFIXES))]}"
            )
        head = f"{c.addr_prefix}{sx.ROADS[int(rnd() * len(sx.ROADS))]}{1 + int(rnd() * 300)}号"
        u = rnd() if t != IND else 0.4 + 0.6 * rnd()
        if u < 0.3:
            return (
                f"{head}{sx.COMMUNITIES[int(rnd() * len(sx.COMMUNITIES))]}小区{1 + int(rnd() * 30)}号楼"
                f"{1 + int(rnd() * 6)}单元{1 + int(rnd() * 30)}0{1 + int(rnd() * 4)}"
            )
        if u < 0.45:
            return (
                f"{head}{sx.BUILDINGS[int(rnd() * len(sx.BUILDINGS))]}大厦{1 + int(rnd() * 25)}层"
                f"{1 + int(rnd() * 30):02d}室"
            )
        return head

    def _code(self, i: int, t: int, c: _County, reg: int, legacy: bool, ind_i: int) -> str:
        if t >= PROD:
            name = TYPES[t]
            self.object_counter[name] += 1
            return f"{sx.OBJECT_CODE_PREFIX[name]}-{self.object_counter[name]:06d}"
        if legacy:
            a, b = self.legacy_ab
            return make_legacy(f"{c.code}{(a * i + b) % _DIGIT_SPACE:08d}")
        prefix = "5" + self.ind_social_kind[ind_i] if t == SOC else sx.USCC_PREFIX[TYPES[t]]
        if t != IND and reg < _ORD_USCC:
            a, b = self.digit_ab
            body = f"{(a * i + b) % _DIGIT_SPACE:08d}"
        else:
            a, b = self.ma_ab
            v = (a * i + b) % _MA_SPACE
            body = "MA" + _T3[v // 29791] + _T3[v % 29791]
        return make_uscc(prefix[0], prefix[1], c.code, body)

    # ----------------------------------------------------------------- one batch
    def batch(self, start: int, size: int) -> None:
        d = self._draw(size)
        rnd = self.rnd.random
        sink = self.sink
        jsonl = self.jsonl
        dumps = orjson.dumps
        ents, recs_out, truth = sink.entities, sink.records, sink.truth
        iso = _ISO
        base = _DATE_BASE
        trade = self.trade_names
        n_trade = len(trade)
        industries = self.industries
        ref = self.ref
        statuses = ("active", "deregistered", "revoked")
        enc = self._encoded
        iso_b = _ISO_B
        line = _RECORD_LINE[sink.fmt]
        for j in range(size):
            i = start + j
            t = d["type"][j]
            c = COUNTIES[d["county"][j]]
            ind_i = d["industry"][j]
            ind = industries[ind_i]
            reg = d["reg"][j]
            risk = d["risk"][j]
            code = self._code(i, t, c, reg, d["legacy"][j], ind_i)
            zh = trade[int(rnd() * n_trade)]
            licences: tuple[str, ...] = ()
            if t >= PROD:
                subj = self.object_subjects[t][d["subject"][j]][1]
                name = f"{zh}牌{subj}" if t == PROD else f"{c.name_prefix}{zh}{subj}"
                ent: dict[str, Any] = {
                    "code": code,
                    "name": name,
                    "entity_type": TYPES[t],
                    "region_code": c.code,
                    "industry_code": ind.code,
                    "status": "active",
                    "licences": [],
                    "tags": [],
                }
            else:
                if d["nominee"][j]:
                    rep = self.nominees[int(len(self.nominees) * rnd() ** 2)]
                else:
                    rep = self._person(self.rnd)
                name = self._name(t, c, ind, zh, rep)
                if d["shared"][j]:
                    pool = self.shared_pool[d["county"][j]]
                    address = pool[int(len(pool) * rnd() ** 2)]
                else:
                    address = self._address(c, t)
                lic = [] if d["unlicensed"][j] else list(ind.licences)
                for kind, p in ind.optional:
                    if rnd() < p:
                        lic.append(kind)
                licences = tuple(lic)
                ent = {
                    "code": code,
                    "name": name,
                    "entity_type": TYPES[t],
                    "legal_representative": rep,
                    "address": address,
                    "region_code": c.code,
                    "industry_code": ind.code,
                    "registered_on": iso[reg - base],
                    "registered_capital": d["cap"][j],
                    "status": statuses[d["status"][j]],
                    "licences": list(licences),
                    "tags": self._tags(ind_i, licences),
                }
                self._reservoir(c.city_idx, code, rep)
            if jsonl:
                ents += dumps(ent, option=_NL)
            else:
                ents.append([_csv_cell(ent.get(f)) for f in ENTITY_FIELDS])
            truth.append(f"{code},{risk:.4f}\n")

            recs = (
                self._records(j, d, t, c, ind, reg, risk, licences)
                if t < PROD
                else (self._object_records(j, d, t, c, risk, ref))
            )
            if not recs:
                continue
            recs.sort()
            del recs[999:]
            code_b = code.encode()
            for k, (o, _, kind, dept, payload) in enumerate(recs):
                dept_b = enc.get(dept)
                if dept_b is None:
                    dept_b = enc[dept] = dept.encode()
                if not jsonl:
                    payload = payload.replace(b'"', b'""')
                recs_out += line % (i, k, code_b, enc[kind], iso_b[o - base], dept_b, payload)
            self.records_written += len(recs)
        self.sink.flush()

    def _name(self, t: int, c: _County, ind: sx.Industry, zh: str, rep: str) -> str:
        rnd = self.rnd.random
        if t == ENT:
            u = rnd()
            if c.is_district:
                head = (
                    c.name_prefix
                    if u < 0.45
                    else c.city_short
                    if u < 0.7
                    else "山西"
                    if u < 0.85
                    else c.city_name
                )
            else:
                head = (
                    c.name
                    if u < 0.6
                    else c.city_short
                    if u < 0.75
                    else "山西"
                    if u < 0.9
                    else c.city_name + c.name
                )
            v = rnd()
            form = (
                "有限公司"
                if v < 0.8
                else "有限责任公司"
                if v < 0.93
                else "股份有限公司"
                if v < 0.97
                else "集团有限公司"
            )
            return f"{head}{zh}{ind.word}{form}"
        if t == IND:
            u = rnd()
            if u < 0.25:
                zh = rep[0] + "记"
            elif u < 0.4:
                zh = rep
            return f"{c.name_prefix}{zh}{ind.shop}"
        if t == COOP:
            return f"{c.name_prefix}{zh}{ind.word}专业合作社"
        kind = ind.social_kind
        if kind == "1":
            topics = sx.SOCIAL_TOPICS.get(ind.code, ("",))
            topic = topics[int(rnd() * len(topics))]
            head = c.city_name if rnd() < 0.6 else c.name_prefix
            return f"{head}{topic}{ind.shop}"
        if kind == "3":
            return f"{c.city_name}{zh}{ind.shop}"
        return f"{c.name_prefix}{zh}{ind.shop}"

    def _reservoir(self, city: int, code: str, rep: str) -> None:
        seen = self.reservoir_seen[city] + 1
        self.reservoir_seen[city] = seen
        res = self.reservoir[city]
        if len(res) < 64:
            res.append((code, rep))
        else:
            k = int(self.side.random() * seen)
            if k < 64:
                res[k] = (code, rep)

    # ----------------------------------------------------------------- records
    def _records(
        self,
        j: int,
        d: dict[str, list[Any]],
        t: int,
        c: _County,
        ind: sx.Industry,
        reg: int,
        r: float,
        licences: tuple[str, ...],
    ) -> list[tuple[int, int, str, str, bytes]]:
        rnd = self.rnd.random
        end = d["end"][j]
        cb = c.bureau
        mb = c.city_bureau
        recs: list[tuple[int, int, str, str, bytes]] = []
        ap = recs.append
        ap((reg, 0, "registration", c.civil_affairs if t == SOC else cb, self.reg_payload))

        for kind in licences:
            o = reg + 5 + int(rnd() * 115)
            issuer = sx.LICENCE_ISSUERS[kind].format(city=mb, county=cb)
            prefix = sx.LICENCE_NO_PREFIX[kind]
            while o <= end:
                valid = o + 1826
                ap(
                    (
                        o,
                        0,
                        "licence",
                        issuer,
                        _js(
                            {
                                "licence_kind": kind,
                                "licence_no": f"{prefix}1{c.code}{int(rnd() * 10_000_000):07d}",
                                "valid_until": _ISO[valid - _DATE_BASE],
                            }
                        ),
                    )
                )
                o = valid - 30 - int(rnd() * 60)

        abnormal = 0  # standing abnormal-list entry opened by a missed annual report
        listed_any = False
        if t != SOC:
            p_miss = (0.01 + 0.8 * r**1.5) * (1.3 if t == IND else 1.0)
            p_zero = (0.03 + 0.5 * r**1.5) if t != IND else (0.12 + 0.4 * r)
            p_fix = 0.8 - 0.65 * r
            ar = self.ar_payload
            for y in range(max(2013, _YEAR[reg - _DATE_BASE]), self.today.year):
                jan = _JAN1[y + 1]
                if jan > end:
                    break
                if rnd() < p_miss:
                    lo = jan + 181 + int(rnd() * 14)
                    if lo > end:
                        break
                    if not abnormal:
                        ap((lo, 0, "abnormal_listed", cb, self.abn_report))
                        abnormal = lo
                        listed_any = True
                    if rnd() < p_fix:
                        late = lo + 10 + int(rnd() * 400)
                        if late <= end:
                            ap((late, 0, "annual_report", cb, ar[y, rnd() < p_zero]))
                            rm = late + int(rnd() * 5)
                            if abnormal and rm <= end:
                                ap((rm, 0, "abnormal_removed", cb, self.abn_rm_report))
                                abnormal = 0
                else:
                    o = jan + int(180 * rnd() ** 0.5)
                    if o > end:
                        break
                    ap((o, 0, "annual_report", cb, ar[y, rnd() < p_zero]))

        dishonest = 0
        can_dishonest = t in (ENT, COOP)
        if abnormal and can_dishonest and rnd() < 0.3 + 0.6 * r:
            o = abnormal + 1096 + int(rnd() * 60)
            if o <= end:
                ap((o, 0, "dishonest_listed", mb, self.dis_abn))
                dishonest = o

        span = end - reg
        # Abnormal listings for an unreachable address (and the revoked ones' trail).
        n_cl = d["cl"][j]
        if d["status"][j] == 2 and not listed_any and n_cl == 0:
            n_cl = 1
        for _ in range(n_cl):
            if span <= 120:
                break
            lo = reg + 90 + int(rnd() * (span - 90))
            self._unreachable(recs, lo, end, r, cb)

        p_problem = min(0.9, 0.04 + 0.75 * r)
        s16 = max(reg + 30, _ORD_2016)
        for _ in range(d["insp"][j]):
            if s16 > end:
                break
            o = s16 + int(rnd() * (end - s16 + 1))
            dept = cb if rnd() < 0.8 else mb
            if rnd() < p_problem:
                k = bisect(self.res_problem_cum, rnd() * self.res_problem_cum[-1])
                ap((o, 0, "inspection_result", dept, self.res_problem[k]))
                if k == self.res_unreach_i:
                    self._unreachable(recs, o + 15 + int(rnd() * 25), end, r, cb)
                elif k == self.res_follow_i and rnd() < 0.6:
                    p = o + 30 + int(rnd() * 150)
                    if p <= end:
                        dishonest = self._penalty(recs, p, end, r, c, ind, t, dishonest)
            else:
                k = bisect(self.res_clean_cum, rnd() * self.res_clean_cum[-1])
                ap((o, 0, "inspection_result", dept, self.res_clean[k]))

        for _ in range(d["pen"][j]):
            if span <= 30:
                break
            o = reg + 30 + int(rnd() * (span - 29))
            dishonest = self._penalty(recs, o, end, r, c, ind, t, dishonest)

        if dishonest and rnd() < 0.3:
            o = dishonest + 1096 + int(rnd() * 90)
            if o <= end:
                ap((o, 0, "dishonest_removed", mb, self.dis_rm))

        comp = self.complaints.get(ind.family) or self.complaints[""]
        for _ in range(d["comp"][j]):
            o = end - int(span * rnd() ** 1.8)
            ap((o, 0, "complaint", mb if rnd() < 0.6 else cb, comp[int(rnd() * len(comp))]))

        payloads, cum = self.change[t]
        for _ in range(d["chg"][j]):
            if span <= 30:
                break
            o = reg + 30 + int(rnd() * (span - 29))
            ap((o, 0, "change", cb, payloads[bisect(cum, rnd() * cum[-1])]))

        if d["sf"][j]:
            items = self.sampling_items.get(ind.family, ("标签标识",))
            s15 = max(reg, _ORD_2015)
            for _ in range(d["sf"][j]):
                if s15 > end:
                    break
                o = s15 + int(rnd() * (end - s15 + 1))
                level, dept = sx.SAMPLING_LEVELS[bisect((0.15, 0.6), rnd())]
                payload = _js(
                    {
                        "product": ind.product,
                        "item": items[int(rnd() * len(items))],
                        "level": level,
                    }
                )
                ap((o, 0, "sampling_failure", dept.format(city=mb), payload))

        for _ in range(d["ep"][j]):
            o = reg + int(rnd() * (span + 1))
            amount = round(max(d["cap"][j], 10.0) * (0.2 + 0.8 * rnd()), 2)
            bank = sx.PLEDGEES[int(rnd() * len(sx.PLEDGEES))]
            ap(
                (
                    o,
                    0,
                    "equity_pledge",
                    cb,
                    _js({"amount": amount, "pledgee": f"{bank}{c.city_short}分行"}),
                )
            )
        for _ in range(d["fil"][j]):
            o = reg + int(rnd() * (span + 1))
            ap((o, 0, "filing", cb, self.filings[int(rnd() * len(self.filings))]))

        pushes = self.push_adverse[c.city_idx]
        for _ in range(d["push"][j]):
            o = reg + int(rnd() * (span + 1))
            dept, payload = pushes[int(rnd() * len(pushes))]
            ap((o, 0, "department_push", dept, payload))
        if t == ENT and rnd() < 0.15 * (1.0 - r) ** 3:
            y = max(_YEAR[reg - _DATE_BASE] + 1, 2015)
            if y <= self.today.year:
                y += int(rnd() * (self.today.year - y + 1))
                o = _JAN1[y] + 90 + int(rnd() * 30)
                if o <= end:
                    ap(
                        (
                            o,
                            0,
                            "department_push",
                            self.push_positive_dept[c.city_idx],
                            _js({"category": sx.PUSH_POSITIVE[1], "adverse": False, "year": y - 1}),
                        )
                    )
        return recs

    def _unreachable(
        self, recs: list[tuple[int, int, str, str, bytes]], lo: int, end: int, r: float, cb: str
    ) -> None:
        if lo > end:
            return
        rnd = self.rnd.random
        recs.append((lo, 0, "abnormal_listed", cb, self.abn_unreach))
        if rnd() < 0.55 - 0.45 * r:
            rm = lo + 30 + int(rnd() * 600)
            if rm <= end:
                payload = self.abn_rm_unreach[int(rnd() * len(self.abn_rm_unreach))]
                recs.append((rm, 0, "abnormal_removed", cb, payload))

    def _penalty(
        self,
        recs: list[tuple[int, int, str, str, bytes]],
        o: int,
        end: int,
        r: float,
        c: _County,
        ind: sx.Industry,
        t: int,
        dishonest: int,
    ) -> int:
        rnd = self.rnd.random
        u = rnd()
        if u < 0.05 + 0.35 * r:
            severity, amount = "serious", 50_000 + int(450_000 * rnd() ** 2)
        elif u < 0.55 + 0.1 * r:
            severity, amount = "general", 5_000 + int(45_000 * rnd())
        else:
            severity, amount = "minor", 0 if rnd() < 0.3 else 500 + int(4_500 * rnd())
        amount = amount // 100 * 100
        year = _YEAR[o - _DATE_BASE]
        key = (c.code, year)
        serial = self.decision_serial.get(key, 0) + 1
        self.decision_serial[key] = serial
        city_level = rnd() < 0.15
        dept = c.city_bureau if city_level else c.bureau
        issuer = c.city_name if city_level else c.name_prefix
        reasons = self.penalty_reasons.get(ind.family, sx.PENALTY_DEFAULT)
        recs.append(
            (
                o,
                0,
                "penalty",
                dept,
                _js(
                    {
                        "amount": amount,
                        "decision_no": f"{issuer}市监罚〔{year}〕{serial + (5000 if city_level else 0)}号",
                        "severity": severity,
                        "reason": reasons[int(rnd() * len(reasons))],
                    }
                ),
            )
        )
        if severity == "serious" and not dishonest and t in (ENT, COOP) and rnd() < 0.25:
            dl = o + 20 + int(rnd() * 70)
            if dl <= end:
                recs.append((dl, 0, "dishonest_listed", c.city_bureau, self.dis_pen))
                return dl
        return dishonest

    def _object_records(
        self, j: int, d: dict[str, list[Any]], t: int, c: _County, r: float, ref: int
    ) -> list[tuple[int, int, str, str, bytes]]:
        rnd = self.rnd.random
        recs: list[tuple[int, int, str, str, bytes]] = []
        span = ref - _ORD_2019
        for _ in range(d["insp"][j]):
            o = _ORD_2019 + int(rnd() * (span + 1))
            if rnd() < min(0.9, 0.04 + 0.75 * r):
                k = bisect(self.res_problem_cum, rnd() * self.res_problem_cum[-1])
                payload = self.res_problem[k]
            else:
                payload = self.res_clean[bisect(self.res_clean_cum, rnd() * self.res_clean_cum[-1])]
            recs.append((o, 0, "inspection_result", c.bureau, payload))
        subject = self.object_subjects[t][d["subject"][j]][1]
        for _ in range(d["sf"][j]):
            o = _ORD_2019 + int(rnd() * (span + 1))
            level, dept = sx.SAMPLING_LEVELS[bisect((0.15, 0.6), rnd())]
            payload = _js({"product": subject, "item": "标签标识", "level": level})
            recs.append((o, 0, "sampling_failure", dept.format(city=c.city_bureau), payload))
        comp = self.complaints[""]
        for _ in range(d["comp"][j]):
            o = _ORD_2019 + int(rnd() * (span + 1))
            recs.append((o, 0, "complaint", c.city_bureau, comp[int(rnd() * len(comp))]))
        return recs

    # ----------------------------------------------------------------- inspectors
    def inspectors(self) -> int:
        rnd = random.Random(f"inspectors-{self.seed}")
        per_city = inspector_count(self.n)
        total = sum(per_city)
        expired = set(rnd.sample(range(total), max(1, round(0.08 * total))))
        depts = list(sx.DEPARTMENT_SHARES)
        dept_cum = _cum(list(sx.DEPARTMENT_SHARES.values()))
        counties_of_city: list[list[_County]] = [[] for _ in CITY_CODES]
        for c in COUNTIES:
            counties_of_city[c.city_idx].append(c)
        serials: dict[tuple[str, int, bool], int] = {}
        ref_year = self.today.year
        k = 0
        for ci, count in enumerate(per_city):
            city = CITY_CODES[ci]
            local = counties_of_city[ci]
            local_cum = _cum([sx.COUNTIES[c.code][1] for c in local])
            pool = self.reservoir[ci]
            for _ in range(count):
                region = (
                    city
                    if rnd.random() < 0.3
                    else local[bisect(local_cum, rnd.random() * local_cum[-1])].code
                )
                dept = depts[bisect(dept_cum, rnd.random() * dept_cum[-1])]
                specialties = list(sx.DEPARTMENTS[dept])
                if rnd.random() < 0.35:
                    extra = sx.SPECIALTIES[int(rnd.random() * len(sx.SPECIALTIES))]
                    if extra not in specialties:
                        specialties.append(extra)
                specialties = specialties[:3]
                professional = rnd.random() < 0.15
                if k in expired:
                    expires = self.ref - 1 - int(rnd.random() * 700)
                else:
                    expires = self.ref + 1 + int(rnd.random() * 5 * 365)
                issued = min(_YEAR[expires - _DATE_BASE] - 5, ref_year)
                key = (city, issued, professional)
                serial = serials.get(key, 0) + 1
                serials[key] = serial
                cert = f"{'ZY' if professional else ''}{city}{issued}{serial:04d}"
                u = rnd.random()
                status = "on_duty" if u < 0.9 else "transferred" if u < 0.96 else "retired"
                avoid_entities: list[str] = []
                avoid_persons: list[str] = []
                avoid_regions: list[str] = []
                if pool and rnd.random() < 0.10:
                    picks = rnd.sample(range(len(pool)), min(len(pool), 1 + int(rnd.random() * 3)))
                    avoid_entities = [pool[p][0] for p in sorted(picks)]
                if pool and rnd.random() < 0.08:
                    picks = rnd.sample(range(len(pool)), min(len(pool), 1 + int(rnd.random() * 2)))
                    avoid_persons = [pool[p][1] for p in sorted(picks)]
                if len(local) > 1 and rnd.random() < 0.06:
                    other = [c.code for c in local if c.code != region]
                    avoid_regions = [other[int(rnd.random() * len(other))]]
                row: dict[str, Any] = {
                    "certificate_no": cert,
                    "name": self._person(rnd),
                    "department": dept,
                    "region_code": region,
                    "certificate_expires_on": _ISO[expires - _DATE_BASE],
                    "specialties": specialties,
                    "status": status,
                    "is_professional": professional,
                    "avoid_entities": avoid_entities,
                    "avoid_regions": avoid_regions,
                    "avoid_persons": avoid_persons,
                }
                if self.jsonl:
                    self.sink.inspectors += orjson.dumps(row, option=_NL)
                else:
                    self.sink.inspectors.append([_csv_cell(row[f]) for f in INSPECTOR_FIELDS])
                k += 1
        self.sink.flush()
        return total


def generate(
    out_dir: Path,
    *,
    n: int,
    seed: int,
    fmt: Format = "jsonl",
    progress: bool = True,
    reference_date: date = REFERENCE_DATE,
) -> dict[str, int]:
    """Write a synthetic population of ``n`` inspection objects into ``out_dir``:
    ``entities.<fmt>``, ``records.<fmt>``, ``inspectors.<fmt>`` and ``truth.csv``.
    Returns the row counts per file."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown format {fmt!r}: use 'jsonl' or 'csv'")
    if not 0 <= n < _DIGIT_SPACE:
        raise ValueError(f"n must be between 0 and {_DIGIT_SPACE - 1}")
    if reference_date.year < 2016 or reference_date.toordinal() > _DATE_END - 6 * 366:
        raise ValueError("reference_date must lie between 2016 and 2034")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sink = _Sink(out_dir, fmt)
    try:
        gen = _Generator(n=n, seed=seed, today=reference_date, sink=sink)
        with tqdm(
            total=n,
            unit="entity",
            unit_scale=True,
            desc="generate",
            disable=not progress,
            file=sys.stderr,
        ) as bar:
            for start in range(0, n, BATCH_SIZE):
                size = min(BATCH_SIZE, n - start)
                gen.batch(start, size)
                bar.update(size)
        inspectors = gen.inspectors()
    finally:
        sink.close()
    return {"entities": n, "records": gen.records_written, "inspectors": inspectors}


__all__ = ["REFERENCE_DATE", "generate", "output_paths", "inspector_count", "COUNTY_CODES"]
