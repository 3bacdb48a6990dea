"""数据服务 API over the marts: school lookup, district indicators, fitness summaries, inspection verdicts,
place-gap forecasts. Read-only from the published warehouse, through the same shared-table definitions
(and small-cell suppression) as the extracts and Delta Sharing.

Tokens: a district token reads its district only (asking for another gives 403); a city token reads every
district. Every response is paged ({items, page, page_size, total}); the OpenAPI spec is generated from
this code at /openapi.json, the interactive docs at /docs, the dbt docs catalog at /catalog/.

Run: `uvicorn edulake.sharing.api_app:app` (what `edulake serve` does).
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from edulake import settings, standard
from edulake.sharing import catalog, web
from edulake.sharing.reader import Warehouse
from edulake.sharing.tokens import Token

V1 = "/api/v1"
app = FastAPI(
    title="edulake 数据服务 API", version="1.0.0", lifespan=web.audited,
    description="Read-only data services over the holistic education database's marts. "
                "Send `Authorization: Bearer <token>` (issued with `edulake token create`).")
app.state.audit = web.install(app, "api", lambda r: f"{r.method} {r.scope.get('route').path}"
                              if r.scope.get("route") else f"{r.method} {r.url.path}")
warehouse = Warehouse()

_CODES: dict[str, list[str]] = {}
for _r in standard.load().codes("district").rows:
    _CODES.setdefault(_r["current_code"], []).append(_r["code"])
DISTRICTS = {d: sorted(c) for d, c in _CODES.items()}

T = TypeVar("T")


class ErrorBody(BaseModel):
    errorCode: str = Field(description="e.g. UNAUTHENTICATED, PERMISSION_DENIED, INVALID_PARAMETER_VALUE")
    message: str = Field(description="what is wrong, in words")


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int = Field(description="rows matching the filters, over all pages")


class School(BaseModel):
    school_id: str = Field(description="学校标识码")
    school_name: str | None = Field(None, description="学校名称")
    running_type: str | None = Field(None, description="办学类型")
    running_type_name: str | None = None
    school_category: str | None = None
    school_category_name: str | None = None
    district_code: str | None = Field(None, description="区划代码")
    district_name: str | None = None
    stages: str | None = Field(None, description="学段")
    serves_primary: bool | None = None
    serves_junior_secondary: bool | None = None
    serves_senior_secondary: bool | None = None
    sponsor: str | None = None
    founded_year: int | None = None
    is_in_registry: bool | None = None


class Indicator(BaseModel):
    grouping_level: str | None = Field(None, description="汇总层级 district | city")
    district_code: str | None = None
    district_name: str | None = None
    school_year: int | None = Field(None, description="学年")
    kpi: str | None = None
    kpi_cn: str | None = Field(None, description="指标")
    kind: str | None = None
    unit: str | None = None
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    is_suppressed: bool | None = Field(None, description="小单元格抑制")


class FitnessSummary(BaseModel):
    school_year: int | None = None
    district_code: str | None = None
    school_id: str | None = None
    grade: int | None = Field(None, description="年级 1-12 (NULL: all grades of the grouping)")
    sex: str | None = Field(None, description="性别 1 男 2 女 (NULL: both)")
    grouping_level: str | None = Field(None, description="汇总层级 (GROUPING SETS): school_grade_sex … city")
    enrolled: int | None = None
    tested: int | None = None
    scored: int | None = None
    passed: int | None = None
    excellent_good: int | None = None
    excellent: int | None = None
    with_bmi: int | None = None
    overweight: int | None = None
    obese: int | None = None
    low_confidence: int | None = None
    participation_rate: float | None = None
    pass_rate: float | None = None
    excellent_good_rate: float | None = None
    overweight_rate: float | None = None
    obesity_rate: float | None = None
    pass_rate_yoy: float | None = None
    excellent_good_rate_yoy: float | None = None
    overweight_rate_yoy: float | None = None
    obesity_rate_yoy: float | None = None
    participation_rate_yoy: float | None = None
    is_suppressed: bool | None = Field(None, description="小单元格抑制: counts and rates blanked")


class InspectionVerdict(BaseModel):
    district_code: str | None = None
    school_year: int | None = None
    stage: str | None = None
    schools: int | None = None
    schools_passing: int | None = None
    indicators_cv_met: int | None = None
    composite_cv: float | None = None
    cv_max: float | None = None
    is_cv_passing: bool | None = None
    cv_scope: str | None = None
    schools_holding_back: str | None = None
    indicators_holding_back: str | None = None
    district_name: str | None = None
    is_balanced: bool | None = None
    verdict: str | None = Field(None, description="督导结论")


class PlaceGap(BaseModel):
    district_code: str | None = None
    school_year: int | None = None
    stage: str | None = None
    grades_forecast: int | None = None
    demand: float | None = None
    demand_lower: float | None = None
    demand_upper: float | None = None
    planned_places: int | None = None
    supply_year: int | None = None
    place_gap: float | None = None
    place_gap_upper: float | None = None
    has_shortage: bool | None = None


ERRORS = {code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
DistrictQ = Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="区划代码 (6 digits); "
                                        "district tokens may omit it or give their own")]
YearQ = Annotated[int | None, Query(ge=1990, le=2100, description="学年 (first calendar year, e.g. 2025)")]
StageQ = Annotated[Literal["小学", "初中", "高中"] | None, Query(description="学段")]
PageQ = Annotated[int, Query(ge=1, le=100_000, description="1-based page")]
SizeQ = Annotated[int, Query(ge=1, le=500, description="rows per page (1-500)")]


def token(request: Request) -> Token:
    return web.authenticate(request)


Auth = Annotated[Token, Depends(token)]


def _scope(tok: Token, district: str | None) -> list[str] | None:
    """The district codes the caller may read under this request; 403/404 with the reason otherwise."""
    if district is not None and district not in DISTRICTS:
        raise web.not_found(f"no current district {district}; districts: {', '.join(sorted(DISTRICTS))}")
    if tok.scope == "city":
        return DISTRICTS[district] if district else None
    if district is not None and district != tok.district:
        raise web.forbidden(f"token {tok.id} reads district {tok.district} only, not {district}")
    return DISTRICTS[tok.district]


def _page(request: Request, table: str, filters: dict, districts, page: int, page_size: int,
          extra=None) -> dict:
    try:
        items, total = warehouse.page(catalog.BY_NAME[table], filters, districts, page, page_size, extra)
    except LookupError as e:
        raise web.ApiError(503, "UNAVAILABLE", str(e)) from None
    web.note(request, rows=len(items), resource=table)
    return {"items": items, "page": page, "page_size": page_size, "total": total}


@app.get("/health", include_in_schema=False)
def health():
    return {"status": "ok"}


@app.get(V1 + "/schools", response_model=Page[School], responses=ERRORS, summary="学校查询")
def schools(request: Request, tok: Auth, district: DistrictQ = None, stage: StageQ = None,
            q: Annotated[str | None, Query(min_length=1, max_length=50, description="学校名称包含")] = None,
            page: PageQ = 1, page_size: SizeQ = 50):
    conditions, params = [], []
    if stage:
        conditions.append("position(? in stages) > 0")
        params.append(stage)
    if q:
        conditions.append("position(? in school_name) > 0")
        params.append(q)
    extra = (" and ".join(conditions), params) if conditions else None
    return _page(request, "dim_school", {}, _scope(tok, district), page, page_size, extra)


@app.get(V1 + "/schools/{school_id}", response_model=School, responses=ERRORS, summary="单个学校")
def school(request: Request, tok: Auth,
           school_id: Annotated[str, Path(pattern=r"^[0-9]{10}$", description="学校标识码 (10 digits)")]):
    found = _page(request, "dim_school", {"school_id": school_id}, _scope(tok, None), 1, 1)["items"]
    if not found:
        raise web.not_found(f"no school {school_id} in your scope")
    return found[0]


@app.get(V1 + "/districts/{district_code}/indicators", response_model=Page[Indicator], responses=ERRORS,
         summary="区级指标（驾驶舱）")
def district_indicators(request: Request, tok: Auth,
                        district_code: Annotated[str, Path(pattern=r"^[0-9]{6}$", description="区划代码")],
                        school_year: YearQ = None, page: PageQ = 1, page_size: SizeQ = 100):
    return _page(request, "cockpit_kpis", {"school_year": school_year, "grouping_level": "district"},
                 _scope(tok, district_code), page, page_size)


@app.get(V1 + "/fitness/summary", response_model=Page[FitnessSummary], responses=ERRORS,
         summary="体质健康汇总（小单元格抑制）")
def fitness_summary(request: Request, tok: Auth, district: DistrictQ = None, school_year: YearQ = None,
                    grouping_level: Annotated[Literal["school_grade_sex", "school", "district_grade_sex",
                                                      "district_grade", "district_sex", "district"] | None,
                                              Query(description="汇总层级 (a district sees no city rows)")] = None,
                    grade: Annotated[int | None, Query(ge=1, le=12, description="年级 1-12")] = None,
                    sex: Annotated[Literal["1", "2"] | None, Query(description="性别 1 男 2 女")] = None,
                    page: PageQ = 1, page_size: SizeQ = 100):
    return _page(request, "health_fitness_summary",
                 {"school_year": school_year, "grouping_level": grouping_level, "grade": grade, "sex": sex},
                 _scope(tok, district), page, page_size)


@app.get(V1 + "/inspection/verdicts", response_model=Page[InspectionVerdict], responses=ERRORS,
         summary="督导评价结论（区）")
def inspection_verdicts(request: Request, tok: Auth, district: DistrictQ = None, school_year: YearQ = None,
                        stage: StageQ = None, page: PageQ = 1, page_size: SizeQ = 100):
    return _page(request, "inspection_district_evaluation", {"school_year": school_year, "stage": stage},
                 _scope(tok, district), page, page_size)


@app.get(V1 + "/enrollment/place-gaps", response_model=Page[PlaceGap], responses=ERRORS, summary="学位缺口预测")
def place_gaps(request: Request, tok: Auth, district: DistrictQ = None, school_year: YearQ = None,
               stage: StageQ = None, page: PageQ = 1, page_size: SizeQ = 100):
    return _page(request, "enrollment_place_gap", {"school_year": school_year, "stage": stage},
                 _scope(tok, district), page, page_size)


CATALOG_FILES = {"": "index.html", "index.html": "index.html", "manifest.json": "manifest.json",
                 "catalog.json": "catalog.json"}


@app.get("/catalog/", include_in_schema=False)
@app.get("/catalog/{name}", include_in_schema=False)
def dbt_docs(name: str = ""):
    """The dbt docs site (全息教育数据库 data catalog), from `edulake build --docs`: three known files only."""
    if name not in CATALOG_FILES:
        raise web.not_found("the catalog serves index.html, manifest.json and catalog.json")
    path = settings.paths().warehouse_dir / "dbt" / "target" / CATALOG_FILES[name]
    if not path.exists():
        raise web.not_found("no dbt docs yet: run `edulake build --docs`")
    return FileResponse(path)
