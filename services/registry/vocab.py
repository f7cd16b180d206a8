"""The registry's controlled vocabularies, with the Chinese words officers use.
Imports accept either the English key or the Chinese word."""

from __future__ import annotations

MARKET_ENTITY_TYPES = {
    "enterprise": "企业",
    "individual_business": "个体工商户",
    "farmer_cooperative": "农民专业合作社",
    "social_organisation": "社会组织",
}
# Objects other than market entities (产品、项目、行为) carry a registry key, not a credit code.
OBJECT_TYPES = {"product": "产品", "project": "项目", "behaviour": "行为"}
ENTITY_TYPES = {**MARKET_ENTITY_TYPES, **OBJECT_TYPES}

ENTITY_STATUSES = {"active": "存续", "deregistered": "注销", "revoked": "吊销"}

LICENCE_KINDS = {
    "food_production": "食品生产许可",
    "food_business": "食品经营许可",
    "industrial_product": "工业产品生产许可",
    "ccc": "强制性产品认证",
    "special_equipment_production": "特种设备生产许可",
    "special_equipment_use": "特种设备使用登记",
    "drug_retail": "药品经营许可",
    "medical_device": "医疗器械经营",
    "measuring_instrument": "计量器具",
    "fuel_retail": "成品油零售",
    "direct_selling": "直销经营许可",
    "optometry": "眼镜验配",
}

RECORD_KINDS = {
    "registration": "登记",
    "change": "变更",
    "filing": "备案",
    "equity_pledge": "股权出质",
    "ip_pledge": "知识产权出质",
    "licence": "行政许可",
    "penalty": "行政处罚",
    "abnormal_listed": "列入经营异常名录",
    "abnormal_removed": "移出经营异常名录",
    "dishonest_listed": "列入严重违法失信名单",
    "dishonest_removed": "移出严重违法失信名单",
    "inspection_result": "检查结果",
    "complaint": "投诉举报",
    "annual_report": "年报",
    "sampling_failure": "抽检不合格",
    "department_push": "部门推送",
}
# Listing kinds and the list each maintains (listed, removed).
LIST_RECORD_KINDS = {
    "abnormal_listed": ("abnormal_operations", True),
    "abnormal_removed": ("abnormal_operations", False),
    "dishonest_listed": ("serious_dishonest", True),
    "dishonest_removed": ("serious_dishonest", False),
}
LIST_KINDS = {"abnormal_operations": "经营异常名录", "serious_dishonest": "严重违法失信名单"}

RELATION_KINDS = {
    "shareholder": "股东",
    "legal_representative": "法定代表人",
    "same_address": "同一住所",
}

INSPECTOR_STATUSES = {"on_duty": "在岗", "transferred": "调离", "retired": "退休"}

SPECIALTIES = {
    "food": "食品",
    "special_equipment": "特种设备",
    "measurement": "计量",
    "product_quality": "产品质量",
    "licensing": "登记注册",
    "advertising": "广告",
    "pricing": "价格",
    "drugs": "药品",
}

# Object keys for non-entity objects (FORMAT.md).
OBJECT_CODE_PATTERN = r"^[A-Z]{1,4}-[0-9A-Za-z_-]{1,36}$"
