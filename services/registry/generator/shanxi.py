"""Reference data for synthetic Shanxi (山西省, 14) populations: administrative divisions
(GB/T 2260, current codes after the 2018-2019 Datong/Changzhi/Shuozhou/Jinzhong
reforms), GB/T 4754-2017 industry classes typical of the province with the licences,
tags and supervising department that go with them, and the name/address vocabulary.

Plain constants only; the generator turns them into lookup tables once per run."""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_CODE = "140000"
PROVINCE_NAME = "山西省"
PROVINCE_BUREAU = "山西省市场监督管理局"

# code -> (name, short name used in company names, 2020 census population in 10k,
#          market-entity density relative to population: the capital has far more firms)
CITIES: dict[str, tuple[str, str, int, float]] = {
    "140100": ("太原市", "太原", 530, 1.7),
    "140200": ("大同市", "大同", 311, 1.0),
    "140300": ("阳泉市", "阳泉", 132, 1.0),
    "140400": ("长治市", "长治", 318, 1.0),
    "140500": ("晋城市", "晋城", 219, 1.05),
    "140600": ("朔州市", "朔州", 159, 0.95),
    "140700": ("晋中市", "晋中", 338, 1.0),
    "140800": ("运城市", "运城", 477, 0.95),
    "140900": ("忻州市", "忻州", 269, 0.9),
    "141000": ("临汾市", "临汾", 398, 0.95),
    "141100": ("吕梁市", "吕梁", 340, 0.9),
}

# County-level divisions: code -> (name, rough weight within its city). Urban districts
# weigh more; small mountain counties less.
COUNTIES: dict[str, tuple[str, float]] = {
    # 太原市
    "140105": ("小店区", 5.0),
    "140106": ("迎泽区", 3.0),
    "140107": ("杏花岭区", 3.0),
    "140108": ("尖草坪区", 2.2),
    "140109": ("万柏林区", 3.2),
    "140110": ("晋源区", 1.2),
    "140121": ("清徐县", 1.2),
    "140122": ("阳曲县", 0.5),
    "140123": ("娄烦县", 0.4),
    "140181": ("古交市", 0.8),
    # 大同市
    "140212": ("新荣区", 0.5),
    "140213": ("平城区", 4.0),
    "140214": ("云冈区", 2.0),
    "140215": ("云州区", 0.7),
    "140221": ("阳高县", 0.9),
    "140222": ("天镇县", 0.7),
    "140223": ("广灵县", 0.6),
    "140224": ("灵丘县", 0.9),
    "140225": ("浑源县", 1.0),
    "140226": ("左云县", 0.5),
    # 阳泉市
    "140302": ("城区", 1.8),
    "140303": ("矿区", 1.2),
    "140311": ("郊区", 1.0),
    "140321": ("平定县", 1.2),
    "140322": ("盂县", 1.2),
    # 长治市
    "140403": ("潞州区", 4.0),
    "140404": ("上党区", 1.3),
    "140405": ("屯留区", 1.0),
    "140406": ("潞城区", 0.9),
    "140423": ("襄垣县", 1.1),
    "140425": ("平顺县", 0.5),
    "140426": ("黎城县", 0.6),
    "140427": ("壶关县", 0.9),
    "140428": ("长子县", 1.2),
    "140429": ("武乡县", 0.6),
    "140430": ("沁县", 0.6),
    "140431": ("沁源县", 0.6),
    # 晋城市
    "140502": ("城区", 3.0),
    "140521": ("沁水县", 0.9),
    "140522": ("阳城县", 1.6),
    "140524": ("陵川县", 0.8),
    "140525": ("泽州县", 2.0),
    "140581": ("高平市", 1.8),
    # 朔州市
    "140602": ("朔城区", 3.0),
    "140603": ("平鲁区", 0.9),
    "140621": ("山阴县", 1.0),
    "140622": ("应县", 1.1),
    "140623": ("右玉县", 0.4),
    "140681": ("怀仁市", 1.3),
    # 晋中市
    "140702": ("榆次区", 4.0),
    "140703": ("太谷区", 1.5),
    "140721": ("榆社县", 0.5),
    "140722": ("左权县", 0.6),
    "140723": ("和顺县", 0.5),
    "140724": ("昔阳县", 0.8),
    "140725": ("寿阳县", 0.9),
    "140727": ("祁县", 1.1),
    "140728": ("平遥县", 1.8),
    "140729": ("灵石县", 1.0),
    "140781": ("介休市", 1.6),
    # 运城市
    "140802": ("盐湖区", 4.0),
    "140821": ("临猗县", 1.8),
    "140822": ("万荣县", 1.0),
    "140823": ("闻喜县", 1.1),
    "140824": ("稷山县", 1.0),
    "140825": ("新绛县", 1.1),
    "140826": ("绛县", 0.8),
    "140827": ("垣曲县", 0.6),
    "140828": ("夏县", 1.0),
    "140829": ("平陆县", 0.7),
    "140830": ("芮城县", 1.1),
    "140881": ("永济市", 1.5),
    "140882": ("河津市", 1.3),
    # 忻州市
    "140902": ("忻府区", 3.5),
    "140921": ("定襄县", 0.9),
    "140922": ("五台县", 1.0),
    "140923": ("代县", 0.7),
    "140924": ("繁峙县", 0.8),
    "140925": ("宁武县", 0.6),
    "140926": ("静乐县", 0.5),
    "140927": ("神池县", 0.4),
    "140928": ("五寨县", 0.4),
    "140929": ("岢岚县", 0.3),
    "140930": ("河曲县", 0.5),
    "140931": ("保德县", 0.6),
    "140932": ("偏关县", 0.4),
    "140981": ("原平市", 1.6),
    # 临汾市
    "141002": ("尧都区", 5.0),
    "141021": ("曲沃县", 0.9),
    "141022": ("翼城县", 1.0),
    "141023": ("襄汾县", 1.5),
    "141024": ("洪洞县", 2.0),
    "141025": ("古县", 0.3),
    "141026": ("安泽县", 0.3),
    "141027": ("浮山县", 0.4),
    "141028": ("吉县", 0.4),
    "141029": ("乡宁县", 0.7),
    "141030": ("大宁县", 0.2),
    "141031": ("隰县", 0.3),
    "141032": ("永和县", 0.2),
    "141033": ("蒲县", 0.3),
    "141034": ("汾西县", 0.4),
    "141081": ("侯马市", 1.2),
    "141082": ("霍州市", 1.1),
    # 吕梁市
    "141102": ("离石区", 3.0),
    "141121": ("文水县", 1.2),
    "141122": ("交城县", 1.0),
    "141123": ("兴县", 1.0),
    "141124": ("临县", 1.5),
    "141125": ("柳林县", 1.3),
    "141126": ("石楼县", 0.4),
    "141127": ("岚县", 0.6),
    "141128": ("方山县", 0.5),
    "141129": ("中阳县", 0.6),
    "141130": ("交口县", 0.4),
    "141181": ("孝义市", 2.2),
    "141182": ("汾阳市", 1.8),
}


def city_of(county_code: str) -> str:
    return county_code[:4] + "00"


# Entity types and their share of the directory (个体工商户 outnumber enterprises; the
# rest are cooperatives, social organisations and product/project/behaviour objects).
ENTITY_TYPE_SHARES: dict[str, float] = {
    "enterprise": 0.350,
    "individual_business": 0.600,
    "farmer_cooperative": 0.018,
    "social_organisation": 0.012,
    "product": 0.012,
    "project": 0.004,
    "behaviour": 0.004,
}
MARKET_ENTITY_TYPES = (
    "enterprise",
    "individual_business",
    "farmer_cooperative",
    "social_organisation",
)
OBJECT_TYPES = ("product", "project", "behaviour")
OBJECT_CODE_PREFIX = {"product": "P", "project": "PJ", "behaviour": "B"}

# Registration authority + entity-type characters of the credit code (GB 32100 表1).
USCC_PREFIX = {"enterprise": "91", "individual_business": "92", "farmer_cooperative": "93"}
# Social organisations: 51 社会团体, 52 民办非企业单位, 53 基金会 (by industry, below).

# Departments (业务科室) and the specialties (业务专长) their inspectors carry.
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "信用监督管理科": ("licensing",),
    "食品生产科": ("food", "licensing"),
    "食品流通科": ("food",),
    "餐饮监管科": ("food",),
    "特种设备安全监察科": ("special_equipment",),
    "计量科": ("measurement",),
    "产品质量监督科": ("product_quality",),
    "认证科": ("product_quality", "licensing"),
    "药品流通监管科": ("drugs",),
    "广告监督管理科": ("advertising",),
    "价格监督检查和反不正当竞争科": ("pricing", "advertising"),
}
# Share of inspectors per department.
DEPARTMENT_SHARES: dict[str, float] = {
    "信用监督管理科": 0.16,
    "食品生产科": 0.10,
    "食品流通科": 0.12,
    "餐饮监管科": 0.12,
    "特种设备安全监察科": 0.12,
    "计量科": 0.09,
    "产品质量监督科": 0.10,
    "认证科": 0.04,
    "药品流通监管科": 0.07,
    "广告监督管理科": 0.04,
    "价格监督检查和反不正当竞争科": 0.04,
}
SPECIALTIES = (
    "food",
    "special_equipment",
    "measurement",
    "product_quality",
    "licensing",
    "advertising",
    "pricing",
    "drugs",
)

LICENCE_KINDS = (
    "food_production",
    "food_business",
    "industrial_product",
    "ccc",
    "special_equipment_production",
    "special_equipment_use",
    "drug_retail",
    "medical_device",
    "measuring_instrument",
    "fuel_retail",
    "direct_selling",
    "optometry",
)
# Tags that follow from holding a licence (the rule-based tags an importer would derive).
LICENCE_TAGS: dict[str, tuple[str, ...]] = {
    "food_production": ("食品生产企业", "获证企业"),
    "food_business": (),
    "industrial_product": ("工业产品生产许可证获证企业", "获证企业"),
    "ccc": ("强制性产品认证获证组织", "获证企业"),
    "special_equipment_production": ("特种设备生产单位", "获证企业"),
    "special_equipment_use": ("特种设备使用单位",),
    "drug_retail": ("药品经营企业",),
    "medical_device": ("医疗器械经营企业",),
    "measuring_instrument": ("计量器具使用单位",),
    "fuel_retail": ("加油站",),
    "direct_selling": ("直销网点",),
    "optometry": ("眼镜制配店",),
}
# Who issues each licence (source_department of licence records). "{city}" and
# "{county}" are filled with the bureau of the entity's city / county.
LICENCE_ISSUERS: dict[str, str] = {
    "food_production": "{city}",
    "food_business": "{county}",
    "industrial_product": PROVINCE_BUREAU,
    "ccc": "中国质量认证中心",
    "special_equipment_production": PROVINCE_BUREAU,
    "special_equipment_use": "{county}",
    "drug_retail": "{county}",
    "medical_device": "{city}",
    "measuring_instrument": "{county}",
    "fuel_retail": "山西省商务厅",
    "direct_selling": "商务部",
    "optometry": "{county}",
}
LICENCE_NO_PREFIX: dict[str, str] = {
    "food_production": "SC",
    "food_business": "JY",
    "industrial_product": "XK",
    "ccc": "CCC",
    "special_equipment_production": "TS",
    "special_equipment_use": "SY",
    "drug_retail": "晋DA",
    "medical_device": "晋械",
    "measuring_instrument": "JL",
    "fuel_retail": "油零售证书第",
    "direct_selling": "直销",
    "optometry": "YP",
}


@dataclass(frozen=True, slots=True)
class Industry:
    code: str  # GB/T 4754-2017 class (4 digits)
    name: str
    family: str  # groups industries for complaint/sampling vocabularies
    department: str  # the 业务科室 supervising it
    licences: tuple[str, ...] = ()  # held by (almost) every entity of the industry
    optional: tuple[tuple[str, float], ...] = ()  # (licence kind, share holding it)
    tags: tuple[str, ...] = ()
    risk: float = 0.0  # added to the latent risk score (logit scale)
    enterprise: float = 0.0  # relative frequency among enterprises
    individual: float = 0.0  # … among individual businesses
    cooperative: float = 0.0
    social: float = 0.0
    social_kind: str = ""  # 1 社会团体, 2 民办非企业单位, 3 基金会
    word: str = ""  # industry word in an enterprise/cooperative name (…食品有限公司)
    shop: str = ""  # suffix of an individual business / social organisation name
    capital: float = 1.0  # multiplier on registered capital
    product: str = ""  # what gets sampled (抽检) from it; empty: never sampled


_FOOD_P = ("food_production",)
_FOOD_B = ("food_business",)

# fmt: off
INDUSTRIES: tuple[Industry, ...] = (
    # A 农、林、牧、渔业 — mostly cooperatives
    Industry("0113", "玉米种植", "agri", "信用监督管理科", risk=0.4, enterprise=0.2, cooperative=10,
             word="玉米种植"),
    Industry("0141", "蔬菜种植", "agri", "信用监督管理科", risk=0.4, enterprise=0.4, individual=0.3,
             cooperative=14, word="蔬菜种植", shop="蔬菜种植园"),
    Industry("0151", "仁果类和核果类水果种植", "agri", "信用监督管理科", risk=0.4, enterprise=0.4, individual=0.2,
             cooperative=12, word="果业", shop="果园"),
    Industry("0313", "猪的饲养", "agri", "信用监督管理科", risk=0.5, enterprise=0.4, individual=0.3,
             cooperative=8, word="养殖", shop="养猪场"),
    Industry("0321", "鸡的饲养", "agri", "信用监督管理科", risk=0.5, enterprise=0.2, individual=0.2,
             cooperative=5, word="养殖", shop="养鸡场"),
    Industry("0512", "农业机械活动", "agri", "信用监督管理科", risk=0.5, enterprise=0.1, cooperative=6,
             word="农机"),
    Industry("0514", "农产品初加工活动", "agri", "信用监督管理科", risk=0.4, enterprise=0.2, cooperative=5,
             word="农产品加工"),
    # B 采矿业
    Industry("0610", "烟煤和无烟煤开采洗选", "mining", "产品质量监督科", tags=("煤炭企业",), risk=0.3, enterprise=1.0,
             word="煤业", capital=30.0, product="商品煤"),
    Industry("0810", "铁矿采选", "mining", "产品质量监督科", risk=0.3, enterprise=0.15, word="矿业",
             capital=8.0),
    Industry("1011", "石灰石、石膏开采", "mining", "产品质量监督科", risk=0.4, enterprise=0.2, word="矿业",
             capital=3.0),
    # C 制造业 — food (C13-C15): 杂粮、醋、白酒 are Shanxi's specialities
    Industry("1313", "玉米加工", "food_mfg", "食品生产科", _FOOD_P, risk=0.4, enterprise=0.2,
             individual=0.1, word="粮油", shop="粮食加工坊", product="玉米粉"),
    Industry("1314", "杂粮加工", "food_mfg", "食品生产科", _FOOD_P, risk=0.4, enterprise=0.35,
             individual=0.2, word="杂粮", shop="杂粮加工坊", product="小米"),
    Industry("1353", "肉制品及副产品加工", "food_mfg", "食品生产科", _FOOD_P, risk=0.7, enterprise=0.3,
             individual=0.2, word="肉制品", shop="熟肉加工坊", product="酱卤肉制品"),
    Industry("1392", "豆制品制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.7, enterprise=0.2,
             individual=0.5, word="豆制品", shop="豆腐坊", product="豆腐干"),
    Industry("1411", "糕点、面包制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.6, enterprise=0.5,
             individual=0.8, word="食品", shop="糕点坊", product="糕点"),
    Industry("1431", "米、面制品制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.4,
             individual=0.6, word="面业", shop="面食加工坊", product="挂面"),
    Industry("1441", "液体乳制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.05, word="乳业",
             capital=8.0, product="灭菌乳"),
    Industry("1462", "酱油、食醋及类似制品制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.45,
             individual=0.3, word="醋业", shop="醋坊", product="老陈醋"),
    Industry("1469", "其他调味品、发酵制品制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.1,
             individual=0.05, word="调味品", shop="调味品加工坊", product="复合调味料"),
    Industry("1512", "白酒制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.3,
             individual=0.15, word="酒业", shop="酒坊", capital=3.0, product="白酒"),
    Industry("1522", "瓶(罐)装饮用水制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.1,
             word="饮品", product="饮用纯净水"),
    Industry("1524", "含乳饮料和植物蛋白饮料制造", "food_mfg", "食品生产科", _FOOD_P, risk=0.5, enterprise=0.05,
             word="饮品", product="核桃乳"),
    # C 制造业 — chemicals, building materials, metals (焦化、水泥、钢铁)
    Industry("2521", "炼焦", "heavy", "产品质量监督科", ("industrial_product",), tags=("焦化企业",), risk=0.4,
             enterprise=0.3, word="焦化", capital=30.0, product="冶金焦炭"),
    Industry("2614", "有机化学原料制造", "heavy", "产品质量监督科", ("industrial_product",), tags=("危险化学品生产企业",),
             risk=0.4, enterprise=0.1, word="化工", capital=10.0, product="甲醇"),
    Industry("2621", "氮肥制造", "heavy", "产品质量监督科", ("industrial_product",), risk=0.4,
             enterprise=0.05, word="化肥", capital=10.0, product="尿素"),
    Industry("2740", "中成药生产", "drugs", "药品流通监管科", risk=0.2, enterprise=0.05, word="药业",
             capital=8.0),
    Industry("2926", "塑料包装箱及容器制造", "product", "产品质量监督科", ("industrial_product",),
             tags=("食品相关产品生产企业",), risk=0.5, enterprise=0.1, individual=0.05, word="塑业",
             shop="塑料制品厂", product="食品用塑料包装容器"),
    Industry("3011", "水泥制造", "heavy", "产品质量监督科", ("industrial_product",), risk=0.4, enterprise=0.1,
             word="水泥", capital=20.0, product="通用硅酸盐水泥"),
    Industry("3021", "水泥制品制造", "product", "产品质量监督科", risk=0.5, enterprise=0.3, individual=0.2,
             word="建材", shop="水泥预制厂", product="混凝土砌块"),
    Industry("3031", "粘土砖瓦及建筑砌块制造", "product", "产品质量监督科", risk=0.5, enterprise=0.3, individual=0.2,
             word="建材", shop="砖厂", product="烧结砖"),
    Industry("3110", "炼铁", "heavy", "产品质量监督科", risk=0.3, enterprise=0.05, word="钢铁", capital=40.0),
    Industry("3120", "炼钢", "heavy", "产品质量监督科", risk=0.3, enterprise=0.05, word="钢铁", capital=40.0),
    Industry("3130", "钢压延加工", "heavy", "产品质量监督科", ("industrial_product",), risk=0.4,
             enterprise=0.15, word="钢铁", capital=15.0, product="钢筋混凝土用热轧带肋钢筋"),
    Industry("3311", "金属结构制造", "product", "产品质量监督科", risk=0.4, enterprise=0.4, individual=0.3,
             word="钢结构", shop="铁艺加工部"),
    # C 制造业 — special equipment makers and other machinery
    Industry("3411", "锅炉及辅助设备制造", "special_equipment", "特种设备安全监察科",
             ("special_equipment_production",), risk=0.4, enterprise=0.05, word="锅炉", capital=5.0,
             product="锅炉"),
    Industry("3435", "电梯、自动扶梯及升降机制造", "special_equipment", "特种设备安全监察科",
             ("special_equipment_production",), risk=0.4, enterprise=0.06, word="电梯", capital=5.0,
             product="电梯"),
    Industry("3443", "阀门和旋塞制造", "special_equipment", "特种设备安全监察科",
             ("special_equipment_production",), risk=0.4, enterprise=0.05, word="阀门", capital=3.0,
             product="压力管道阀门"),
    Industry("3511", "矿山机械制造", "product", "产品质量监督科", risk=0.3, enterprise=0.2, word="煤机",
             capital=5.0),
    Industry("3670", "汽车零部件及配件制造", "product", "认证科", optional=(("ccc", 0.5),), risk=0.3,
             enterprise=0.1, word="汽车配件", capital=3.0, product="汽车安全玻璃"),
    Industry("3831", "电线、电缆制造", "product", "产品质量监督科", ("industrial_product", "ccc"), risk=0.5,
             enterprise=0.06, word="电缆", capital=3.0, product="电线电缆"),
    # D 电力、燃气
    Industry("4412", "热电联产", "utility", "计量科", ("special_equipment_use",), risk=0.1,
             enterprise=0.08, word="热电", capital=40.0),
    Industry("4415", "风力发电", "utility", "计量科", risk=0.3, enterprise=0.12, word="新能源", capital=20.0),
    Industry("4416", "太阳能发电", "utility", "计量科", risk=0.4, enterprise=0.15, word="光伏", capital=10.0),
    Industry("4511", "天然气生产和供应业", "utility", "特种设备安全监察科",
             ("special_equipment_use", "measuring_instrument"), tags=("燃气经营企业",), risk=0.3,
             enterprise=0.06, word="燃气", capital=8.0),
    # E 建筑业
    Industry("4710", "住宅房屋建筑", "construction", "信用监督管理科", risk=0.6, enterprise=1.6, word="建筑工程",
             capital=5.0),
    Industry("4790", "其他房屋建筑业", "construction", "信用监督管理科", risk=0.6, enterprise=0.5, word="建设工程",
             capital=3.0),
    Industry("4812", "公路工程建筑", "construction", "信用监督管理科", risk=0.6, enterprise=0.3, word="路桥工程",
             capital=8.0),
    Industry("4910", "电气安装", "construction", "信用监督管理科", risk=0.5, enterprise=0.4, individual=0.3,
             word="电力工程", shop="水电安装部"),
    Industry("5011", "公共建筑装饰和装修", "construction", "信用监督管理科", risk=0.5, enterprise=0.5, word="装饰工程"),
    Industry("5012", "住宅装饰和装修", "construction", "信用监督管理科", risk=0.6, enterprise=0.8,
             individual=1.0, word="装饰", shop="装饰部", capital=0.5),
    # F 批发业
    Industry("5121", "米、面制品及食用油批发", "food_trade", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.3,
             enterprise=0.5, individual=0.5, word="粮油", shop="粮油批发部"),
    Industry("5127", "酒、饮料及茶叶批发", "food_trade", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.4,
             enterprise=0.5, individual=0.5, word="商贸", shop="酒水批发部"),
    Industry("5151", "西药批发", "drugs", "药品流通监管科", ("drug_retail",),
             optional=(("medical_device", 0.6),), tags=("药品批发企业",), risk=0.2, enterprise=0.1,
             word="医药", capital=5.0),
    Industry("5154", "医疗用品及器材批发", "drugs", "药品流通监管科", ("medical_device",), risk=0.4,
             enterprise=0.2, word="医疗器械"),
    Industry("5161", "煤炭及制品批发", "trade", "信用监督管理科", risk=0.6, enterprise=1.2, individual=0.2,
             word="煤炭运销", shop="煤炭经销部", capital=3.0),
    Industry("5162", "石油及制品批发", "trade", "产品质量监督科", risk=0.5, enterprise=0.2, word="石化",
             capital=5.0, product="车用柴油"),
    Industry("5165", "建材批发", "trade", "信用监督管理科", risk=0.4, enterprise=0.8, individual=0.8,
             word="建材", shop="建材经销部"),
    # F 零售业
    Industry("5211", "百货零售", "retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.3, enterprise=0.3,
             individual=0.5, word="商贸", shop="百货商店"),
    Industry("5212", "超级市场零售", "food_retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.4,
             enterprise=0.5, individual=1.5, word="超市", shop="超市", product="散装熟食"),
    Industry("5213", "便利店零售", "food_retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.4,
             enterprise=0.3, individual=3.0, word="便利店", shop="便利店", capital=0.3),
    Industry("5221", "粮油零售", "food_retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.3,
             enterprise=0.1, individual=1.0, word="粮油", shop="粮油店", product="食用植物油"),
    Industry("5223", "果品、蔬菜零售", "food_retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.3,
             enterprise=0.1, individual=2.5, word="果蔬", shop="果蔬店", product="蔬菜"),
    Industry("5224", "肉、禽、蛋、奶及水产品零售", "food_retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.5,
             enterprise=0.1, individual=2.0, word="生鲜", shop="鲜肉店", product="猪肉"),
    Industry("5225", "营养和保健品零售", "food_retail", "食品流通科", _FOOD_B,
             optional=(("direct_selling", 0.15),), tags=("保健食品经营者",), risk=0.9, enterprise=0.3,
             individual=0.3, word="健康科技", shop="保健品店", product="保健食品"),
    Industry("5226", "酒、饮料及茶叶零售", "food_retail", "食品流通科", _FOOD_B, tags=("食品销售者",), risk=0.4,
             enterprise=0.2, individual=1.5, word="商贸", shop="烟酒店", product="白酒"),
    Industry("5227", "烟草制品零售", "retail", "食品流通科", _FOOD_B, risk=0.3, enterprise=0.05,
             individual=1.0, word="商贸", shop="烟酒商行"),
    Industry("5232", "服装零售", "retail", "产品质量监督科", risk=0.3, enterprise=0.3, individual=4.0,
             word="服饰", shop="服装店", capital=0.5),
    Industry("5233", "鞋帽零售", "retail", "产品质量监督科", risk=0.3, individual=1.0, word="鞋业", shop="鞋店",
             capital=0.5),
    Industry("5234", "化妆品及卫生用品零售", "retail", "产品质量监督科", risk=0.5, enterprise=0.2, individual=1.2,
             word="化妆品", shop="化妆品店", product="化妆品"),
    Industry("5236", "钟表、眼镜零售", "eyewear", "计量科", ("optometry", "measuring_instrument"),
             tags=("眼镜制配店",), risk=0.5, enterprise=0.1, individual=0.4, word="眼镜", shop="眼镜店",
             capital=0.5, product="配装眼镜"),
    Industry("5251", "西药零售", "drugs", "药品流通监管科", ("drug_retail",),
             optional=(("medical_device", 0.6), ("food_business", 0.5)), tags=("药品零售企业",),
             risk=0.3, enterprise=0.3, individual=0.4, word="大药房", shop="药店"),
    Industry("5254", "医疗用品及器材零售", "drugs", "药品流通监管科", ("medical_device",), risk=0.5,
             enterprise=0.05, individual=0.1, word="医疗器械", shop="医疗器械店"),
    Industry("5261", "汽车新车零售", "auto", "价格监督检查和反不正当竞争科", risk=0.4, enterprise=0.2, word="汽车销售服务"),
    Industry("5263", "汽车零配件零售", "auto", "产品质量监督科", risk=0.3, enterprise=0.2, individual=0.8,
             word="汽配", shop="汽配店", capital=0.5),
    Industry("5265", "机动车燃油零售", "fuel", "计量科", ("fuel_retail", "measuring_instrument"),
             tags=("加油站",), risk=0.5, enterprise=0.3, individual=0.05, word="石油", shop="加油站",
             capital=2.0, product="车用汽油"),
    Industry("5266", "机动车燃气零售", "fuel", "特种设备安全监察科",
             ("special_equipment_use", "measuring_instrument"), tags=("加气站",), risk=0.5,
             enterprise=0.06, word="燃气", capital=3.0, product="车用天然气"),
    Industry("5271", "家用视听设备零售", "retail", "产品质量监督科", risk=0.3, enterprise=0.1, individual=0.6,
             word="电器", shop="家电商行"),
    Industry("5281", "五金零售", "retail", "产品质量监督科", risk=0.3, enterprise=0.1, individual=1.5,
             word="五金", shop="五金店", capital=0.5),
    Industry("5292", "互联网零售", "online", "广告监督管理科", optional=(("food_business", 0.3),), risk=0.9,
             enterprise=0.6, individual=1.0, word="电子商务", shop="网店", capital=0.5),
    Industry("5299", "其他未列明零售业", "retail", "信用监督管理科", risk=0.5, enterprise=0.2, individual=1.5,
             word="商贸", shop="商店", capital=0.5),
    # G 交通运输
    Industry("5431", "普通货物道路运输", "transport", "信用监督管理科", risk=0.6, enterprise=1.0, individual=1.5,
             word="物流", shop="货运部"),
    Industry("5435", "危险货物道路运输", "transport", "特种设备安全监察科", ("special_equipment_use",), risk=0.5,
             enterprise=0.1, word="危货运输", capital=5.0),
    # H 住宿和餐饮业
    Industry("6121", "经济型连锁酒店", "lodging", "餐饮监管科", optional=(("food_business", 0.4),), risk=0.4,
             enterprise=0.2, individual=0.1, word="酒店管理", shop="宾馆"),
    Industry("6129", "其他一般旅馆", "lodging", "餐饮监管科", optional=(("food_business", 0.3),), risk=0.4,
             enterprise=0.2, individual=0.8, word="宾馆", shop="旅馆", capital=0.5),
    Industry("6130", "民宿服务", "lodging", "餐饮监管科", optional=(("food_business", 0.5),), risk=0.5,
             enterprise=0.05, individual=0.3, word="民宿", shop="民宿"),
    Industry("6210", "正餐服务", "catering", "餐饮监管科", _FOOD_B, tags=("餐饮服务单位",), risk=0.7,
             enterprise=0.8, individual=3.0, word="餐饮", shop="饭店", product="餐饮具"),
    Industry("6220", "快餐服务", "catering", "餐饮监管科", _FOOD_B, tags=("餐饮服务单位",), risk=0.7,
             enterprise=0.3, individual=2.5, word="餐饮管理", shop="快餐店", product="餐饮食品"),
    Industry("6231", "茶馆服务", "catering", "餐饮监管科", _FOOD_B, tags=("餐饮服务单位",), risk=0.5,
             individual=0.3, word="茶业", shop="茶馆"),
    Industry("6241", "餐饮配送服务", "catering", "餐饮监管科", _FOOD_B, tags=("餐饮服务单位", "集体用餐配送单位"), risk=0.8,
             enterprise=0.1, word="餐饮配送", product="集体用餐配送膳食"),
    Industry("6291", "小吃服务", "catering", "餐饮监管科", _FOOD_B, tags=("餐饮服务单位",), risk=0.8,
             enterprise=0.1, individual=4.0, word="餐饮", shop="小吃店", capital=0.3, product="餐饮食品"),
    Industry("6299", "其他未列明餐饮业", "catering", "餐饮监管科", _FOOD_B, tags=("餐饮服务单位",), risk=0.8,
             individual=0.5, word="餐饮", shop="餐馆", capital=0.3),
    # I 信息技术
    Industry("6513", "应用软件开发", "tech", "信用监督管理科", risk=0.2, enterprise=0.6, word="信息技术"),
    Industry("6531", "信息系统集成服务", "tech", "信用监督管理科", risk=0.2, enterprise=0.3, word="科技"),
    # K 房地产业
    Industry("7010", "房地产开发经营", "realty", "价格监督检查和反不正当竞争科", risk=0.7, enterprise=0.6, word="房地产开发",
             capital=15.0),
    Industry("7020", "物业管理", "realty", "特种设备安全监察科", ("special_equipment_use",), risk=0.5,
             enterprise=0.4, word="物业管理"),
    Industry("7030", "房地产中介服务", "realty", "价格监督检查和反不正当竞争科", risk=0.7, enterprise=0.2,
             individual=0.3, word="房地产经纪", shop="房屋中介"),
    # L 租赁和商务服务业
    Industry("7212", "投资与资产管理", "finance", "信用监督管理科", risk=1.4, enterprise=0.3, word="投资管理",
             capital=10.0),
    Industry("7251", "互联网广告服务", "advertising", "广告监督管理科", risk=0.7, enterprise=0.1, word="网络科技"),
    Industry("7259", "其他广告服务", "advertising", "广告监督管理科", risk=0.6, enterprise=0.3, individual=0.3,
             word="广告", shop="广告部"),
    # O 居民服务、修理
    Industry("8010", "家庭服务", "services", "信用监督管理科", risk=0.5, enterprise=0.2, individual=0.3,
             word="家政服务", shop="家政服务部"),
    Industry("8040", "理发及美容服务", "services", "价格监督检查和反不正当竞争科", risk=0.6, enterprise=0.1,
             individual=3.0, word="美容美发", shop="美发店", capital=0.3),
    Industry("8051", "洗浴服务", "services", "特种设备安全监察科", optional=(("special_equipment_use", 0.5),),
             risk=0.5, enterprise=0.05, individual=0.3, word="洗浴", shop="浴池"),
    Industry("8053", "养生保健服务", "services", "广告监督管理科", risk=1.0, enterprise=0.1, individual=0.6,
             word="健康管理", shop="养生馆", capital=0.5),
    Industry("8111", "汽车修理与维护", "auto", "价格监督检查和反不正当竞争科", risk=0.4, enterprise=0.3, individual=1.5,
             word="汽车服务", shop="汽车修理部"),
    # P/Q/R 教育、卫生、娱乐 — also social organisations (民办非企业单位)
    Industry("8310", "学前教育", "education", "价格监督检查和反不正当竞争科", risk=0.2, social=3.0, social_kind="2",
             shop="幼儿园"),
    Industry("8391", "职业技能培训", "education", "广告监督管理科", risk=0.5, enterprise=0.1, social=1.5,
             social_kind="2", word="教育科技", shop="职业技能培训学校"),
    Industry("8393", "文化艺术培训", "education", "广告监督管理科", risk=0.5, enterprise=0.1, social=2.0,
             social_kind="2", word="文化传播", shop="艺术培训学校"),
    Industry("8514", "老年人、残疾人养护服务", "care", "信用监督管理科", risk=0.3, social=1.0, social_kind="2",
             shop="养老院"),
    Industry("8930", "健身休闲活动", "sport", "价格监督检查和反不正当竞争科", risk=0.8, enterprise=0.1, individual=0.2,
             word="健身", shop="健身房"),
    Industry("9011", "歌舞厅娱乐活动", "entertainment", "价格监督检查和反不正当竞争科",
             optional=(("food_business", 0.5),), risk=0.6, enterprise=0.05, individual=0.2,
             word="娱乐", shop="歌厅"),
    Industry("9020", "游乐园", "entertainment", "特种设备安全监察科", ("special_equipment_use",), risk=0.4,
             enterprise=0.02, word="游乐", capital=5.0),
    # S 社会组织 (社会团体, 基金会)
    Industry("9521", "专业性团体", "association", "信用监督管理科", social=2.0, social_kind="1", shop="学会"),
    Industry("9522", "行业性团体", "association", "信用监督管理科", social=3.0, social_kind="1", shop="行业协会"),
    Industry("9529", "其他社会团体", "association", "信用监督管理科", social=1.0, social_kind="1", shop="协会"),
    Industry("9530", "基金会", "association", "信用监督管理科", social=0.3, social_kind="3", shop="慈善基金会"),
)
# fmt: on
INDUSTRY_BY_CODE = {ind.code: ind for ind in INDUSTRIES}

# Product/project/behaviour objects (其他检查对象): (industry code, name pattern words).
OBJECT_SUBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "product": (
        ("1462", "老陈醋"),
        ("1512", "清香型白酒"),
        ("1314", "小米"),
        ("1411", "月饼"),
        ("1431", "手工挂面"),
        ("3831", "电线电缆"),
        ("3130", "建筑用钢筋"),
        ("3011", "通用硅酸盐水泥"),
        ("2926", "食品用塑料容器"),
        ("2521", "冶金焦炭"),
    ),
    "project": (
        ("4910", "住宅小区电梯安装工程"),
        ("5265", "加油站油气回收改造项目"),
        ("4710", "保障性住房建设项目"),
        ("4511", "城镇燃气管网改造工程"),
    ),
    "behaviour": (
        ("7259", "户外广告发布行为"),
        ("5292", "网络直播营销行为"),
        ("5212", "商品价格标示行为"),
        ("7212", "涉嫌非法集资宣传行为"),
    ),
}

# Names: common surnames in Shanxi, weighted roughly by frequency.
# fmt: off
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 9.0), ("李", 7.0), ("张", 7.0), ("刘", 5.5),
    ("赵", 3.0), ("杨", 3.0), ("郭", 3.0), ("韩", 1.5),
    ("贾", 1.6), ("郝", 1.3), ("武", 1.5), ("冯", 1.2),
    ("田", 1.2), ("任", 1.2), ("梁", 1.2), ("侯", 1.0),
    ("孟", 1.0), ("白", 1.1), ("薛", 1.0), ("段", 0.9),
    ("高", 1.8), ("闫", 1.2), ("乔", 0.8), ("霍", 0.8),
    ("牛", 0.7), ("申", 0.6), ("史", 0.8), ("范", 0.8),
    ("程", 0.7), ("曹", 0.8), ("杜", 0.7), ("邢", 0.5),
    ("宋", 0.9), ("孙", 1.2), ("马", 1.2), ("吕", 0.7),
    ("秦", 0.7), ("卫", 0.5), ("靳", 0.5), ("常", 0.7),
    ("陈", 1.5), ("周", 0.9), ("吴", 0.7), ("徐", 0.7),
    ("胡", 0.8), ("朱", 0.7), ("何", 0.5), ("原", 0.3),
    ("栗", 0.3), ("温", 0.5), ("岳", 0.5), ("崔", 0.6),
    ("董", 0.6), ("苏", 0.5), ("阎", 0.4), ("焦", 0.4),
)
# fmt: on
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀兰霞平刚桂英华建国红玲志斌海波鹏飞宇浩然俊峰晓燕"
    "丽萍春梅文彬凯丹慧琴云鑫亮宏林瑞雪晋生旺福荣昌宝成喜梅玉珍凤莲虎龙强东晨阳欣怡佳琪"
    "子涵梓轩浩宇雨萱思远嘉乐永利树德保全文斌建军卫东红霞晓东"
)
# Two-character trade names (字号) are drawn from these.
TRADE_NAME_CHARS = (
    "鑫源晋丰宏达恒通永盛瑞金泰博远汇昌荣兴旺德顺富民聚锦华福祥和天成利佳美众诚信隆安康"
    "嘉禾新创卓越润泽鼎昊宇航中正海峰辰星东方凯旭益乐盈汾并太行龙腾"
)
# fmt: off
ROADS = (
    "建设路", "解放路", "人民路", "新华街", "府东街", "府西街", "和平路", "中心街", "文化路",
    "朝阳街", "振兴路", "胜利街", "五一路", "南环路", "北环路", "东风路", "西大街", "东大街",
    "迎宾路", "滨河路", "长治路", "并州路", "体育路", "学府街", "工农路", "红旗街", "新建路",
    "育才路", "友谊街", "开发区大道",
)
# fmt: on
# fmt: off
BUILDINGS = (
    "鼎盛", "华宇", "国贸", "金融", "时代", "万达", "阳光", "财富", "丰泽", "汇丰", "世纪",
    "龙城",
)
# fmt: on
# fmt: off
COMMUNITIES = (
    "幸福", "康乐", "锦绣", "金色", "御景", "书香", "阳光", "绿洲", "和园", "翠苑", "晋韵",
    "水岸",
)
# fmt: on
# fmt: off
TOWNS = (
    "城关镇", "东关镇", "北关镇", "南关镇", "新城街道", "东城街道", "西城街道", "城北街道",
    "城南街道",
)
# fmt: on
VILLAGE_SUFFIXES = ("家庄村", "家堡村", "家沟村", "家岭村", "家坪村", "家峪村", "家寨村")

# Standard inspection-result categories (seed 002).
RESULT_NO_PROBLEM = "未发现问题"
RESULTS_CLEAN: tuple[tuple[str, float], ...] = (
    (RESULT_NO_PROBLEM, 0.86),
    ("未发现开展本次抽查涉及的经营活动", 0.07),
    ("合格", 0.04),
    ("其他情况", 0.03),
)
RESULT_UNREACHABLE = "通过登记的住所(经营场所)无法联系"
RESULT_FOLLOW_UP = "发现问题，待后续调查处理"
RESULTS_PROBLEM: tuple[tuple[str, float], ...] = (
    ("发现问题，依法责令立即改正或者限期改正", 0.48),
    (RESULT_FOLLOW_UP, 0.15),
    (RESULT_UNREACHABLE, 0.15),
    ("未按规定公示应当公示的信息", 0.12),
    ("不合格", 0.06),
    ("不配合检查情节严重", 0.04),
)

ABNORMAL_REASON_REPORT = "未依照规定期限公示年度报告"
ABNORMAL_REASON_UNREACHABLE = "通过登记的住所或者经营场所无法联系"
ABNORMAL_REMOVAL_REPORT = "补报未报年份的年度报告并公示"
ABNORMAL_REMOVAL_UNREACHABLE: tuple[str, ...] = (
    "依法办理住所或者经营场所变更登记",
    "提出通过登记的住所或者经营场所可以重新取得联系",
)
DISHONEST_REASON_ABNORMAL = "被列入经营异常名录届满3年仍未履行相关义务"
DISHONEST_REASON_PENALTY = "因严重违法行为受到较重行政处罚"
DISHONEST_REMOVAL = "列入严重违法失信名单满3年且已履行相关义务，信用修复"

COMPLAINT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "catering": ("食品安全", "餐饮卫生", "价格收费", "服务质量", "预付卡消费"),
    "food_retail": ("食品安全", "过期食品", "价格标示", "计量短缺"),
    "food_mfg": ("食品安全", "标签标识", "产品质量"),
    "services": ("预付卡消费", "价格收费", "服务质量", "虚假宣传"),
    "online": ("虚假宣传", "退换货", "产品质量", "个人信息"),
    "finance": ("虚假宣传", "合同纠纷", "涉嫌非法集资"),
    "realty": ("合同纠纷", "虚假宣传", "物业服务", "价格收费"),
    "fuel": ("计量短缺", "油品质量", "价格标示"),
    "eyewear": ("配镜质量", "计量不准", "价格标示"),
}
COMPLAINT_DEFAULT = ("产品质量", "合同纠纷", "价格收费", "服务质量", "虚假宣传")
COMPLAINT_CHANNELS = ("全国12315平台", "12345政务服务便民热线", "来信来访", "网络舆情")

SAMPLING_ITEMS: dict[str, tuple[str, ...]] = {
    "food_mfg": ("菌落总数", "大肠菌群", "霉菌", "防腐剂超限量", "甜蜜素", "标签标识"),
    "food_retail": ("农药残留", "兽药残留", "菌落总数", "过氧化值", "酸价"),
    "catering": ("大肠菌群", "阴离子合成洗涤剂", "菌落总数"),
    "heavy": ("强度", "化学成分", "灰分", "硫分"),
    "product": ("标志和说明书", "机械强度", "导体电阻", "迁移量"),
    "special_equipment": ("出厂检验", "安全保护装置"),
    "fuel": ("硫含量", "辛烷值", "蒸气压"),
    "eyewear": ("顶焦度", "光学中心水平偏差", "柱镜轴位方向"),
    "mining": ("全硫", "灰分", "发热量"),
    "trade": ("硫含量", "闪点"),
}
SAMPLING_LEVELS: tuple[tuple[str, str], ...] = (
    ("国家监督抽查", "国家市场监督管理总局"),
    ("省级监督抽查", PROVINCE_BUREAU),
    ("市级监督抽查", "{city}"),
)

CHANGE_FIELDS_ENTERPRISE: tuple[tuple[str, float], ...] = (
    ("address", 3.0),
    ("legal_representative", 2.0),
    ("shareholder", 2.0),
    ("capital", 1.5),
    ("business_scope", 1.5),
    ("name", 1.0),
)
CHANGE_FIELDS_INDIVIDUAL: tuple[tuple[str, float], ...] = (
    ("address", 3.0),
    ("legal_representative", 1.0),
    ("business_scope", 2.0),
    ("name", 1.5),
    ("capital", 0.5),
)
FILING_ITEMS = ("章程备案", "董事、监事、经理备案", "联络员备案", "清算组备案", "分支机构备案")
PLEDGEES = (
    "中国工商银行股份有限公司",
    "中国建设银行股份有限公司",
    "中国农业银行股份有限公司",
    "中国银行股份有限公司",
    "晋商银行股份有限公司",
    "山西银行股份有限公司",
)
# Data pushed by other departments (总对总): (issuer pattern, category, adverse).
PUSHES_ADVERSE: tuple[tuple[str, str], ...] = (
    ("国家税务总局{city_name}税务局", "欠税公告"),
    ("国家税务总局{city_name}税务局", "重大税收违法失信主体"),
    ("{city_name}人力资源和社会保障局", "拖欠农民工工资失信联合惩戒对象"),
    ("{city_name}生态环境局", "环境违法行政处罚"),
    ("{city_name}中级人民法院", "失信被执行人"),
    ("{city_name}应急管理局", "安全生产行政处罚"),
)
PUSH_POSITIVE = ("国家税务总局{city_name}税务局", "纳税信用A级纳税人")

PENALTY_REASONS: dict[str, tuple[str, ...]] = {
    "catering": ("违反《中华人民共和国食品安全法》第三十四条", "未按规定取得食品经营许可从事经营"),
    "food_retail": ("经营超过保质期的食品", "违反《中华人民共和国食品安全法》第五十三条"),
    "food_mfg": ("生产不符合食品安全标准的食品", "违反《中华人民共和国食品安全法》第五十一条"),
    "fuel": ("使用未经检定的计量器具", "销售不合格成品油"),
    "eyewear": ("使用未经检定的计量器具", "配装眼镜不合格"),
    "online": ("发布虚假广告", "违反《中华人民共和国电子商务法》第十七条"),
    "advertising": ("发布虚假广告", "违反《中华人民共和国广告法》第二十八条"),
    "special_equipment": ("未经许可从事特种设备生产活动",),
}
PENALTY_DEFAULT = (
    "违反《中华人民共和国反不正当竞争法》第八条",
    "违反《中华人民共和国产品质量法》第四十九条",
    "提交虚假材料取得登记",
    "违反《明码标价和禁止价格欺诈规定》",
    "未按规定办理变更登记",
)

# Social organisations: what an association/society is about, by industry class.
SOCIAL_TOPICS: dict[str, tuple[str, ...]] = {
    "9521": ("计量测试", "质量管理", "食品科学技术", "标准化", "老年医学", "法学"),
    "9522": ("餐饮", "食品", "个体劳动者", "煤炭", "物流", "美容美发", "汽车维修", "酿酒", "醋业"),
    "9529": ("老年人体育", "书法家", "摄影家", "志愿者", "消费者"),
}
