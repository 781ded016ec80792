"""Enterprise ("group") customers: tiers, account managers, members and products held."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from omnidesk.demo.people import TIMEZONES, phone_number
from omnidesk.demo.specs import MemberSpec, OrgSpec, PersonSpec, ProductSpec
from omnidesk.models.enums import MemberRole, OrgTier

DM, KP, AD, MB = (MemberRole.decision_maker, MemberRole.key_person, MemberRole.administrator,
                  MemberRole.member)


@dataclass(frozen=True)
class OrgRow:
    key: str
    name: str
    tier: str
    manager: str | None
    billing_mode: str
    locale: str
    region: str
    domain: str
    attributes: dict[str, Any]
    tags: tuple[str, ...]
    members: tuple[tuple[str, str, str, str], ...]  # name, mailbox, role, title
    products: tuple[tuple[str, str, int | None], ...]  # code, name, days to expiry
    private_members: tuple[tuple[str, str, str], ...] = ()  # person key, role, title


ORGS: tuple[OrgRow, ...] = (
    OrgRow("huaxin", "华信科技有限公司", OrgTier.strategic, "zhou_jianguo", "centralised",
           "zh-CN", "CN", "huaxin-tech.example",
           {"industry": "信息技术", "city": "深圳", "employees": 3200,
            "contract_no": "HX-2022-0018"}, ("上市公司", "云服务", "重点保障"),
           (("陈国栋", "chen.guodong", DM, "总经理"), ("刘思敏", "liu.simin", KP, "IT 总监"),
            ("吴晓丽", "wu.xiaoli", AD, "行政主管"), ("郑浩", "zheng.hao", MB, "运维工程师")),
           (("DL-100M", "数据专线 100M（深圳—上海）", 26), ("ECS-8C16G", "云主机 8核16G ×12", 210),
            ("5G-PN", "5G 行业专网", 330), ("VPMN-200", "集团短号 200 线", None)),
           (("cn005", MB, "产品经理"),)),
    OrgRow("jiangnan", "江南精密制造股份有限公司", OrgTier.strategic, "zhou_jianguo", "split",
           "zh-CN", "CN", "jiangnan-precision.example",
           {"industry": "制造业", "city": "苏州", "employees": 5600,
            "contract_no": "JN-2021-0107"}, ("智能制造", "5G 专网", "重点保障"),
           (("沈建明", "shen.jianming", DM, "董事长"),
            ("顾晓峰", "gu.xiaofeng", KP, "信息中心主任"),
            ("钱丽华", "qian.lihua", AD, "办公室主任"), ("陆涛", "lu.tao", MB, "车间主任")),
           (("5G-PN", "5G 行业专网", 20), ("DL-1G", "数据专线 1G", 150),
            ("ECS-16C32G", "云主机 16核32G ×6", 95))),
    OrgRow("trtc", "台北捷運資訊股份有限公司", OrgTier.key, "grace_wong", "centralised",
           "zh-TW", "TW", "trtc-info.example",
           {"industry": "交通運輸資訊", "city": "台北", "employees": 860,
            "contract_no": "TW-2023-0032"}, ("跨境專線", "交通"),
           (("陳建志", "chienchih.chen", DM, "總經理"), ("林雅惠", "yahui.lin", KP, "資訊部經理"),
            ("王志明", "chihming.wang", AD, "總務課長"),
            ("郭俊宏", "chunhung.kuo", MB, "系統工程師")),
           (("IDL-50M", "國際數據專線 50M（台北—上海）", 15), ("ECS-4C8G", "雲主機 4核8G ×4", 240)),
           (("tw002", MB, "專案經理"),)),
    OrgRow("northwind", "Northwind Logistics Ltd.", OrgTier.key, "grace_wong", "centralised",
           "en", "HK", "northwind.example",
           {"industry": "Logistics", "city": "Hong Kong", "employees": 1400,
            "contract_no": "NW-2022-0211"}, ("cross-border", "IoT"),
           (("Robert Chan", "robert.chan", DM, "Managing Director"),
            ("Alice Ng", "alice.ng", KP, "IT Manager"),
            ("Kevin Lau", "kevin.lau", AD, "Office Manager"),
            ("Emma Wilson", "emma.wilson", MB, "Operations Analyst")),
           (("XB-200M", "跨境专线 200M（香港—深圳）", 48), ("SDWAN-5", "SD-WAN 5 站点", 180),
            ("IOT-500", "物联网卡 500 张", 27)),
           (("en000", MB, "Fleet Coordinator"),)),
    OrgRow("renhe", "仁和医疗集团", OrgTier.key, "zhou_jianguo", "centralised", "zh-CN", "CN",
           "renhe-health.example",
           {"industry": "医疗健康", "city": "杭州", "employees": 2100,
            "contract_no": "RH-2023-0045"}, ("医疗专网", "等保三级"),
           (("何志远", "he.zhiyuan", DM, "副院长"), ("孙倩", "sun.qian", KP, "信息科科长"),
            ("韩梅", "han.mei", AD, "行政科")),
           (("MED-NET", "医疗专网（5 院区）", 300), ("ECS-8C16G", "云主机 8核16G ×8", 12),
            ("400-LINE", "400 热线号码", None))),
    OrgRow("shencheng", "申城连锁餐饮管理有限公司", OrgTier.standard, "zhou_jianguo",
           "per_member", "zh-CN", "CN", "shencheng-dining.example",
           {"industry": "餐饮", "city": "上海", "employees": 640}, ("连锁门店",),
           (("潘立新", "pan.lixin", DM, "总经理"), ("蒋文静", "jiang.wenjing", AD, "行政经理"),
            ("方宇", "fang.yu", MB, "门店经理")),
           (("BB-ENT-18", "企业宽带 ×18 门店", 75), ("VPMN-60", "集团短号 60 线", None)),
           (("cn012", KP, "信息化负责人"),)),
    OrgRow("mingde", "明德国际学校", OrgTier.standard, "grace_wong", "centralised", "zh-CN",
           "CN", "mingde-school.example",
           {"industry": "教育", "city": "北京", "employees": 320}, ("教育",),
           (("周慧", "zhou.hui", DM, "校长"), ("李东", "li.dong", KP, "IT 主管"),
            ("马丽", "ma.li", AD, "总务主任")),
           (("FTTH-ENT-1000", "校园宽带 1000M", 22), ("IPTV-EDU", "IPTV 教学频道", None))),
    OrgRow("contoso", "Contoso Pharma (Shanghai) Co., Ltd.", OrgTier.standard, "grace_wong",
           "split", "en", "CN", "contoso-pharma.example",
           {"industry": "Pharmaceuticals", "city": "上海", "employees": 450}, ("外资",),
           (("Mark Schneider", "mark.schneider", DM, "General Manager"),
            ("王蕾", "wang.lei", KP, "IT Lead"), ("Julia Fischer", "julia.fischer", MB,
                                                  "Finance Controller")),
           (("BB-ENT-500", "企业宽带 500M", 140), ("ECS-4C8G", "云主机 4核8G ×2", 60))),
    OrgRow("jiahao", "香港嘉豪貿易有限公司", OrgTier.small_business, None, "prepaid", "zh-TW",
           "HK", "kahou-trading.example",
           {"industry": "貿易", "city": "香港", "employees": 18}, ("小微企業",),
           (("梁家豪", "kahou.leung", DM, "老闆"), ("黃美玲", "meiling.wong", AD, "會計")),
           (("BB-BIZ-300", "商業寬頻 300M", 9), ("5G-BIZ-3", "5G 商務套餐 ×3", 200))),
    OrgRow("xiaolu", "小鹿文创工作室", OrgTier.small_business, None, "prepaid", "zh-CN", "CN",
           "xiaolu-studio.example",
           {"industry": "文化创意", "city": "成都", "employees": 9}, ("小微企业",),
           (("鹿鸣", "lu.ming", DM, "创始人"), ("唐小雨", "tang.xiaoyu", MB, "设计师")),
           (("BB-ENT-300", "企业宽带 300M", 140),), (("cn020", KP, "合伙人"),)),
)


def _product(rng: random.Random, now: datetime, code: str, name: str,
             days: int | None) -> ProductSpec:
    if days is None:
        return ProductSpec(code, name, now - timedelta(days=rng.randint(200, 1200)), None,
                           attributes={"billing": "monthly"})
    expires = now + timedelta(days=days, hours=rng.randint(1, 20))
    return ProductSpec(code, name, expires - timedelta(days=rng.choice([365, 730, 1095])),
                       expires, attributes={"sla_availability": "99.9%"})


def _member(rng: random.Random, row: OrgRow, index: int, name: str, mailbox: str,
            used: set[str]) -> PersonSpec:
    email = f"{mailbox}@{row.domain}"
    used.add(email)
    return PersonSpec(
        key=f"{row.key}-{index}", name=name, locale=row.locale,
        timezone=TIMEZONES[row.region], vip_level=None, tags=["政企联系人"],
        phone=phone_number(rng, row.region, used), email=email,
        attributes={"company": row.name}, is_member=True, is_private=False,
    )


def organisations(rng: random.Random, now: datetime, persons: list[PersonSpec],
                  used: set[str]) -> tuple[list[OrgSpec], list[PersonSpec]]:
    """The organisations, and the member contacts they bring (individuals who are also
    members are marked so, not duplicated)."""
    by_key = {p.key: p for p in persons}
    orgs, members = [], []
    for row in ORGS:
        spec = OrgSpec(row.key, row.name, row.tier, row.manager, row.billing_mode,
                       dict(row.attributes), list(row.tags),
                       products=[_product(rng, now, *p) for p in row.products])
        for index, (name, mailbox, role, title) in enumerate(row.members):
            person = _member(rng, row, index, name, mailbox, used)
            members.append(person)
            spec.members.append(MemberSpec(person.key, role, title))
        for key, role, title in row.private_members:
            by_key[key].is_member = True
            spec.members.append(MemberSpec(key, role, title))
        orgs.append(spec)
    return orgs, members
