"""Individual customers: names in simplified Chinese, traditional Chinese and English,
phone numbers (+86 mostly, some +852 / +886), e-mail, WeChat and app identities, VIP
levels, tags and the products they hold."""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta

from omnidesk.customers.identities import normalize_phone
from omnidesk.demo.specs import PersonSpec, ProductSpec
from omnidesk.kit.errors import ValidationFailed

WANG_XIAOMING = "wang_xiaoming"
WANG_PHONE = "+8613800138000"

CN_SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"),
    ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("许", "xu"),
)
CN_GIVEN = (
    ("伟", "wei"), ("芳", "fang"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"),
    ("晓东", "xiaodong"), ("子涵", "zihan"), ("浩然", "haoran"), ("雨桐", "yutong"),
    ("思远", "siyuan"), ("佳怡", "jiayi"), ("俊杰", "junjie"), ("建华", "jianhua"),
    ("玉兰", "yulan"), ("志强", "zhiqiang"), ("婷婷", "tingting"), ("海燕", "haiyan"),
)
# (name, mailbox, region): Taiwan and Hong Kong customers write traditional characters.
TRADITIONAL = (
    ("陳怡君", "yijun.chen", "TW"), ("林志豪", "zhihao.lin", "TW"),
    ("黃詩涵", "shihan.huang", "TW"), ("張家豪", "jiahao.chang", "TW"),
    ("李宗翰", "tsunghan.lee", "TW"), ("王淑芬", "shufen.wang", "TW"),
    ("劉雅婷", "yating.liu", "TW"), ("蔡佩珊", "peishan.tsai", "TW"),
    ("楊冠宇", "kuanyu.yang", "TW"), ("許志偉", "chihwei.hsu", "TW"),
    ("陳嘉欣", "kayan.chan", "HK"), ("黃浩賢", "hoyin.wong", "HK"),
    ("李詠詩", "wingsze.lee", "HK"), ("張偉倫", "wailun.cheung", "HK"),
)
ENGLISH = (
    ("James Miller", "james.miller", "CN"), ("Hannah Clarke", "hannah.clarke", "CN"),
    ("Oliver Bennett", "oliver.bennett", "CN"), ("Priya Sharma", "priya.sharma", "CN"),
    ("Lucas Martin", "lucas.martin", "CN"), ("Chloe Evans", "chloe.evans", "CN"),
    ("Daniel Hughes", "daniel.hughes", "HK"), ("Grace Liu", "grace.liu", "HK"),
    ("Michael Tan", "michael.tan", "HK"), ("Sarah Kim", "sarah.kim", None),
    ("Ethan Brooks", "ethan.brooks", None), ("Amelia Wright", "amelia.wright", "CN"),
)
MAIL_DOMAINS = ("example.com", "example.net", "mail.example", "163.example", "qq.example")
TW_MAIL = ("example.com.tw", "hinet.example", "example.net")
CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "南京", "武汉", "西安", "苏州")
TW_CITIES = ("台北", "新北", "台中", "高雄")
CN_PREFIXES = ("138", "139", "136", "137", "135", "150", "151", "152", "158", "159",
               "186", "187", "188", "189", "177", "133", "153", "180", "181", "199")
VIP_LEVELS = (None, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 5)
TAGS = {
    "zh-CN": ("5G", "家庭融合", "高价值", "投诉敏感", "学生", "老年关怀", "携转风险",
              "电子发票"),
    "zh-TW": ("5G", "高價值", "電子帳單", "家庭方案"),
    "en": ("expat", "business-traveller", "5G", "english-speaking"),
}
TIMEZONES = {"CN": "Asia/Shanghai", "TW": "Asia/Taipei", "HK": "Asia/Hong_Kong"}


def _valid(number: str) -> bool:
    try:
        return normalize_phone(number, "CN") == number
    except ValidationFailed:  # a range no operator has been given: draw again
        return False


def phone_number(rng: random.Random, region: str, used: set[str]) -> str:
    while True:
        if region == "HK":
            number = "+852" + rng.choice("69") + "".join(rng.choices(string.digits, k=7))
        elif region == "TW":
            number = "+8869" + "".join(rng.choices(string.digits, k=8))
        else:
            number = "+86" + rng.choice(CN_PREFIXES) + "".join(rng.choices(string.digits, k=8))
        if number not in used and _valid(number):
            used.add(number)
            return number


def email_address(rng: random.Random, mailbox: str, domains: tuple[str, ...], used: set[str],
           *, numbered: bool = False) -> str:
    while True:
        suffix = str(rng.randint(1, 99)) if numbered else ""
        address = f"{mailbox}{suffix}@{rng.choice(domains)}"
        if address not in used:
            used.add(address)
            return address
        numbered = True


def openid(rng: random.Random) -> str:
    return "o" + "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=27))


def app_id(rng: random.Random) -> str:
    return "u" + "".join(rng.choices(string.digits, k=9))


def _product(rng: random.Random, now: datetime, code: str, name: str,
             *, monthly: bool = False, short: bool = False) -> ProductSpec:
    """A holding that expires soon (about one in five), later, or has expired."""
    if short:  # roaming packs: bought for a trip, a few days or weeks
        return ProductSpec(code, name, now - timedelta(days=rng.randint(1, 5)),
                           now + timedelta(days=rng.randint(2, 20), hours=rng.randint(1, 20)),
                           attributes={"trip": rng.choice(["日本", "泰国", "美国", "欧洲"])})
    if monthly:
        return ProductSpec(code, name, now - timedelta(days=rng.randint(60, 900)), None,
                           attributes={"billing": "monthly"})
    draw = rng.random()
    if draw < 0.22:
        expires = now + timedelta(days=rng.randint(3, 28), hours=rng.randint(1, 20))
    elif draw < 0.94:
        expires = now + timedelta(days=rng.randint(45, 420))
    else:
        expires = now - timedelta(days=rng.randint(3, 40))
    status = "active" if expires > now else "expired"
    started = expires - timedelta(days=rng.choice([365, 730]))
    return ProductSpec(code, name, started, expires, status,
                       {"contract_months": 12 if expires - started < timedelta(days=400)
                        else 24})


def products_for(rng: random.Random, now: datetime, locale: str) -> list[ProductSpec]:
    traditional = locale == "zh-TW"
    plan = rng.choice([("5G-199", "5G 套餐 199元"), ("5G-129", "5G 套餐 129元"),
                       ("5G-99", "5G 套餐 99元"), ("5G-199", "5G 套餐 199元")])
    out = [_product(rng, now, *plan)]
    if rng.random() < 0.55:
        broadband = (("BB-500", "寬頻 500M") if traditional
                     else rng.choice([("FTTH-1000", "千兆宽带"), ("FTTH-300", "宽带 300M")]))
        out.append(_product(rng, now, *broadband))
    if rng.random() < 0.3:
        out.append(_product(rng, now, "IPTV-HD", "IPTV 高畫質" if traditional else "IPTV 高清",
                            monthly=True))
    if rng.random() < 0.15 or (locale == "en" and rng.random() < 0.4):
        out.append(_product(rng, now, "ROAM-INTL", "國際漫遊包" if traditional
                            else "国际漫游包", short=True))
    return out


def _tags(rng: random.Random, locale: str, products: list[ProductSpec]) -> list[str]:
    tags = set(rng.sample(TAGS[locale], k=rng.randint(0, 2)))
    codes = {p.code for p in products}
    if codes & {"FTTH-1000", "FTTH-300"}:
        tags.add("宽带用户")
    if "BB-500" in codes:
        tags.add("寬頻用戶")
    if "ROAM-INTL" in codes:
        tags.add("国际漫游")
    return sorted(tags)


def wang_xiaoming(now: datetime) -> PersonSpec:
    """The well-known demo customer: VIP 3, a plan expiring in 12 days."""
    return PersonSpec(
        key=WANG_XIAOMING, name="王小明", locale="zh-CN", timezone="Asia/Shanghai",
        vip_level=3, tags=["5G", "宽带用户", "高价值"], phone=WANG_PHONE,
        email="wxm@example.cn", wechat_openid="oWxm13800138000demoOpenid01",
        app_user_id="u138001380",
        products=[
            ProductSpec("5G-199", "5G 套餐 199元", now - timedelta(days=353),
                        now + timedelta(days=12), attributes={"contract_months": 12}),
            ProductSpec("FTTH-1000", "千兆宽带", now - timedelta(days=165),
                        now + timedelta(days=200), attributes={"contract_months": 12}),
            ProductSpec("IPTV-HD", "IPTV 高清", now - timedelta(days=400), None,
                        attributes={"billing": "monthly"}),
        ],
        attributes={"city": "深圳", "customer_since": "2016-08", "credit_rating": "A"},
    )


def _mainland(rng: random.Random, now: datetime, index: int, name: str, mailbox: str,
              used: set[str]) -> PersonSpec:
    products = products_for(rng, now, "zh-CN")
    return PersonSpec(
        key=f"cn{index:03d}", name=name, locale="zh-CN", timezone="Asia/Shanghai",
        vip_level=rng.choice(VIP_LEVELS), tags=_tags(rng, "zh-CN", products),
        phone=phone_number(rng, "CN", used),
        email=email_address(rng, mailbox, MAIL_DOMAINS, used, numbered=True)
        if rng.random() < 0.55 else None,
        wechat_openid=openid(rng) if rng.random() < 0.6 else None,
        app_user_id=app_id(rng) if rng.random() < 0.5 else None,
        products=products,
        attributes={"city": rng.choice(CITIES),
                    "customer_since": f"{rng.randint(2008, 2023)}-{rng.randint(1, 12):02d}"},
    )


def mainland_customers(rng: random.Random, now: datetime, count: int,
                       used: set[str]) -> list[PersonSpec]:
    seen = {"王小明"}
    out: list[PersonSpec] = []
    while len(out) < count:
        (surname, s_py), (given, g_py) = rng.choice(CN_SURNAMES), rng.choice(CN_GIVEN)
        name = surname + given
        if name in seen:
            continue
        seen.add(name)
        out.append(_mainland(rng, now, len(out), name, f"{s_py}.{g_py}", used))
    return out


def traditional_customers(rng: random.Random, now: datetime,
                          used: set[str]) -> list[PersonSpec]:
    out: list[PersonSpec] = []
    for index, (name, mailbox, region) in enumerate(TRADITIONAL):
        products = products_for(rng, now, "zh-TW")
        out.append(PersonSpec(
            key=f"tw{index:03d}", name=name, locale="zh-TW", timezone=TIMEZONES[region],
            vip_level=rng.choice(VIP_LEVELS), tags=_tags(rng, "zh-TW", products),
            phone=phone_number(rng, region, used),
            email=email_address(rng, mailbox, TW_MAIL, used) if rng.random() < 0.7 else None,
            app_user_id=app_id(rng) if rng.random() < 0.5 else None, products=products,
            attributes={"city": "香港" if region == "HK" else rng.choice(TW_CITIES)},
        ))
    return out


def english_customers(rng: random.Random, now: datetime, used: set[str]) -> list[PersonSpec]:
    out: list[PersonSpec] = []
    for index, (name, mailbox, region) in enumerate(ENGLISH):
        products = products_for(rng, now, "en")
        out.append(PersonSpec(
            key=f"en{index:03d}", name=name, locale="en",
            timezone=TIMEZONES[region or "CN"], vip_level=rng.choice(VIP_LEVELS),
            tags=_tags(rng, "en", products),
            phone=phone_number(rng, region, used) if region else None,
            email=email_address(rng, mailbox, MAIL_DOMAINS, used),
            wechat_openid=openid(rng) if region == "CN" and rng.random() < 0.3 else None,
            app_user_id=app_id(rng) if rng.random() < 0.5 else None, products=products,
            attributes={"city": "香港" if region == "HK" else rng.choice(CITIES[:4])},
        ))
    return out


def individuals(rng: random.Random, now: datetime, used: set[str],
                mainland: int = 64) -> list[PersonSpec]:
    """王小明 first, then mainland, Taiwan / Hong Kong and English-speaking customers.
    ``used`` collects phone numbers and addresses so that nobody shares one."""
    used.update({WANG_PHONE, "wxm@example.cn"})
    return [wang_xiaoming(now), *mainland_customers(rng, now, mainland, used),
            *traditional_customers(rng, now, used), *english_customers(rng, now, used)]
