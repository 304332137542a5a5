"""What the demo community is: Lumina Cloud's categories, staff, customers and members, and what
they say to each other (topics, replies, votes, idea updates, referrals). Data only; seed.py plays it.

People are named by the local part of their email (`wang.fang`, `jonas.weber`,
`member` for Emma Schneider, `moderator` for Sophie Wang), which is also their
@handle. Times are relative to the moment of seeding: a topic starts `ago`
days back; a reply, status change or edit comes `hours` after the topic
started, or `ago` days before now.
"""
from typing import NamedTuple

from ..community.models import Access
from ..crm.models import LifecycleStage
from ..permissions import Role
from ..referrals.models import ReferralSource

DEMO_PASSWORD = "teahouse-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.teahouse.example"

ADMIN_EMAIL = "admin@teahouse.example"
MODERATOR_EMAIL = "moderator@teahouse.example"
SALES_EMAIL = "sales@teahouse.example"
SALES_MANAGER_EMAIL = "manager@teahouse.example"
MEMBER_EMAIL = f"member@{DEMO_EMAIL_DOMAIN}"

LOGINS = (
    (Role.MEMBER, MEMBER_EMAIL),
    (Role.MODERATOR, MODERATOR_EMAIL),
    (Role.SALES, SALES_EMAIL),
    (Role.SALES_MANAGER, SALES_MANAGER_EMAIL),
    (Role.ADMIN, ADMIN_EMAIL),
)

CATEGORIES = (
    {
        "name": "Announcements / 公告",
        "slug": "announcements",
        "description": "Release notes, scheduled maintenance and event invitations from the Lumina Cloud team. "
                       "产品发布、维护窗口与线下活动通知。",
        "colour": "#b45309",
        "write_access": Access.STAFF,
    },
    {
        "name": "Getting Started / 入门",
        "slug": "getting-started",
        "description": "New to Lumina Cloud? Connect your first data source, build a dashboard and invite "
                       "your team. 新用户从这里开始：接入数据源、搭建第一个看板。",
        "colour": "#0f766e",
    },
    {
        "name": "Questions & Answers / 问答",
        "slug": "questions",
        "description": "Ask how to model a metric, why a chart looks wrong or how to speed up a slow query. "
                       "Accept the answer that solved it. 提问与解答，采纳最佳答案。",
        "colour": "#1d4ed8",
    },
    {
        "name": "Ideas & Feedback / 建议与反馈",
        "slug": "ideas",
        "description": "Suggest features and vote on the ideas of others; the product team reviews the top "
                       "ideas every sprint. 提出功能建议并为你支持的想法投票。",
        "colour": "#7c3aed",
    },
    {
        "name": "Integrations & API / 集成与 API",
        "slug": "integrations",
        "description": "Connectors, webhooks, the REST API and embedding dashboards in your own product: "
                       "DingTalk, WeCom, Salesforce, Snowflake and more. 数据连接器、Webhook 与开放接口。",
        "colour": "#be185d",
    },
    {
        "name": "Staff room / 员工专区",
        "slug": "staff-room",
        "description": "Where the Lumina Cloud team coordinates: triage, escalations, hand-overs to sales. "
                       "Members never see it. 仅员工可见。",
        "colour": "#0e7490",
        "read_access": Access.STAFF,
        "write_access": Access.STAFF,
    },
)

TEAMS = ("China Sales", "International Sales")

STAFF = (
    {"email": ADMIN_EMAIL, "name": "Lin Hao", "role": Role.ADMIN, "locale": "en",
     "timezone": "Asia/Shanghai", "team": None,
     "bio": "Runs the Teahouse platform for Lumina Cloud: settings, integrations and access."},
    {"email": MODERATOR_EMAIL, "name": "Sophie Wang", "role": Role.MODERATOR, "locale": "en",
     "timezone": "Asia/Shanghai", "team": None,
     "bio": "Community manager at Lumina Cloud. Ping me if a thread needs an answer from the product team."},
    {"email": "zhao.min@teahouse.example", "name": "赵敏", "role": Role.MODERATOR, "locale": "zh",
     "timezone": "Asia/Shanghai", "team": None,
     "bio": "Lumina Cloud 社区运营，负责中文版块和线下用户沙龙。"},
    {"email": SALES_MANAGER_EMAIL, "name": "Michael Chen", "role": Role.SALES_MANAGER, "locale": "en",
     "timezone": "Asia/Shanghai", "team": "China Sales",
     "bio": "Head of sales for Greater China. Eight years in enterprise software."},
    {"email": SALES_EMAIL, "name": "刘洋", "role": Role.SALES, "locale": "zh",
     "timezone": "Asia/Shanghai", "team": "China Sales",
     "bio": "华东区客户经理，负责零售与金融行业客户。"},
    {"email": "sun.li@teahouse.example", "name": "孙丽", "role": Role.SALES, "locale": "zh",
     "timezone": "Asia/Shanghai", "team": "China Sales",
     "bio": "华北、华南区客户经理，擅长制造业与教育行业的数据项目。"},
    {"email": "daniel.koh@teahouse.example", "name": "Daniel Koh", "role": Role.SALES, "locale": "en",
     "timezone": "Asia/Singapore", "team": "International Sales",
     "bio": "Account executive for Europe, North America and Southeast Asia, based in Singapore."},
)

STAFF_JOINED_DAYS_AGO = 600

CUSTOMERS = (
    {
        "external_id": "LC-1001", "name": "Xingchen Retail", "company": "杭州星辰零售集团有限公司",
        "domain": "hangzhou-retail.example.cn", "email": "it@hangzhou-retail.example.cn",
        "phone": "+86 571 8801 2345", "region": "East China", "industry": "Retail", "size": "1000+",
        "stage": LifecycleStage.REPEAT_CUSTOMER, "revenue": "1280000.00",
        "first_purchase_days_ago": 1420, "last_purchase_days_ago": 65, "renewal_in_days": 300,
        "contact_channels": ["email", "wechat", "phone"], "opt_outs": [], "verified_days_ago": 20,
        "created_days_ago": 1500, "owner_rep": SALES_EMAIL, "relationship_owner": "zhao.min@teahouse.example",
    },
    {
        "external_id": "LC-1002", "name": "Nordwind Logistik", "company": "Nordwind Logistik GmbH",
        "domain": "nordwind-logistik.example", "email": "procurement@nordwind-logistik.example",
        "phone": "+49 40 5550 1820", "region": "Europe", "industry": "Logistics", "size": "1000+",
        "stage": LifecycleStage.REPEAT_CUSTOMER, "revenue": "960000.00",
        "first_purchase_days_ago": 1090, "last_purchase_days_ago": 150, "renewal_in_days": 215,
        "contact_channels": ["email", "phone"], "opt_outs": ["sms"], "verified_days_ago": 45,
        "created_days_ago": 1200, "owner_rep": "daniel.koh@teahouse.example", "relationship_owner": MODERATOR_EMAIL,
    },
    {
        "external_id": "LC-1003", "name": "Jinqiao Financial Services", "company": "上海金桥金融服务有限公司",
        "domain": "jinqiao-finance.example.cn", "email": "data@jinqiao-finance.example.cn",
        "phone": "+86 21 5088 7612", "region": "East China", "industry": "Financial Services",
        "size": "201-1000",
        "stage": LifecycleStage.CUSTOMER, "revenue": "420000.00",
        "first_purchase_days_ago": 240, "last_purchase_days_ago": 240, "renewal_in_days": 125,
        "contact_channels": ["email", "wechat"], "opt_outs": ["phone"], "verified_days_ago": 30,
        "created_days_ago": 400, "owner_rep": SALES_EMAIL, "relationship_owner": "zhao.min@teahouse.example",
    },
    {
        "external_id": "LC-1004", "name": "Lanhai Electronics", "company": "深圳蓝海电子科技有限公司",
        "domain": "lanhai-electronics.example.cn", "email": "bi@lanhai-electronics.example.cn",
        "phone": "+86 755 8632 4410", "region": "South China", "industry": "Electronics Manufacturing",
        "size": "201-1000",
        "stage": LifecycleStage.CUSTOMER, "revenue": "240000.00",
        "first_purchase_days_ago": 410, "last_purchase_days_ago": 410, "renewal_in_days": 20,
        "contact_channels": ["wechat", "phone"], "opt_outs": [], "verified_days_ago": 90,
        "created_days_ago": 520, "owner_rep": "sun.li@teahouse.example",
        "relationship_owner": "zhao.min@teahouse.example",
    },
    {
        "external_id": "LC-1005", "name": "Yunfan Education", "company": "北京云帆教育科技有限公司",
        "domain": "yunfan-edu.example.cn", "email": "ops@yunfan-edu.example.cn",
        "phone": "+86 10 6278 3391", "region": "North China", "industry": "Education", "size": "51-200",
        "stage": LifecycleStage.REPEAT_CUSTOMER, "revenue": "110000.00",
        "first_purchase_days_ago": 900, "last_purchase_days_ago": 530, "renewal_in_days": -170,
        "contact_channels": ["email", "wechat"], "opt_outs": [], "verified_days_ago": 12,
        "created_days_ago": 820, "owner_rep": "sun.li@teahouse.example",
        "relationship_owner": "zhao.min@teahouse.example",
    },
    {
        "external_id": "LC-1006", "name": "Maple & Finch Health", "company": "Maple & Finch Health Inc.",
        "domain": "mapleandfinch.example", "email": "analytics@mapleandfinch.example",
        "phone": "+1 416 555 0190", "region": "North America", "industry": "Healthcare", "size": "51-200",
        "stage": LifecycleStage.CUSTOMER, "revenue": "96000.00",
        "first_purchase_days_ago": 28, "last_purchase_days_ago": 28, "renewal_in_days": 337,
        "contact_channels": ["email"], "opt_outs": ["phone", "sms"], "verified_days_ago": 28,
        "created_days_ago": 150, "owner_rep": "daniel.koh@teahouse.example", "relationship_owner": MODERATOR_EMAIL,
    },
    {
        "external_id": "LC-1007", "name": "Sunda Pay", "company": "PT Sunda Pay Indonesia",
        "domain": "sundapay.example", "email": "finance@sundapay.example",
        "phone": "+62 21 5550 3377", "region": "Southeast Asia", "industry": "Fintech", "size": "51-200",
        "stage": LifecycleStage.CUSTOMER, "revenue": "84000.00",
        "first_purchase_days_ago": 795, "last_purchase_days_ago": 430, "renewal_in_days": -65,
        "contact_channels": ["email"], "opt_outs": [], "verified_days_ago": 200,
        "created_days_ago": 860, "owner_rep": "daniel.koh@teahouse.example", "relationship_owner": MODERATOR_EMAIL,
    },
    {
        "external_id": "LC-1008", "name": "Haihe Pharmaceutical", "company": "天津海河制药股份有限公司",
        "domain": "haihe-pharma.example.cn", "email": "xinxi@haihe-pharma.example.cn",
        "phone": "+86 22 2356 8870", "region": "North China", "industry": "Pharmaceuticals", "size": "1000+",
        "stage": LifecycleStage.PROSPECT, "revenue": "0.00",
        "contact_channels": ["email", "phone"], "opt_outs": [], "verified_days_ago": 15,
        "created_days_ago": 75, "owner_rep": "sun.li@teahouse.example",
        "relationship_owner": "zhao.min@teahouse.example",
    },
    {
        "external_id": "LC-1009", "name": "Kestrel Robotics", "company": "Kestrel Robotics LLC",
        "domain": "kestrel-robotics.example", "email": "hello@kestrel-robotics.example",
        "phone": "+1 412 555 0148", "region": "North America", "industry": "Industrial Automation",
        "size": "201-1000",
        "stage": LifecycleStage.PROSPECT, "revenue": "0.00",
        "contact_channels": ["email"], "opt_outs": [], "verified_days_ago": 40,
        "created_days_ago": 110, "owner_rep": "daniel.koh@teahouse.example", "relationship_owner": MODERATOR_EMAIL,
    },
    {
        "external_id": "LC-1010", "name": "Baiyun Foods", "company": "广州白云食品有限公司",
        "domain": "baiyun-foods.example.cn", "email": "market@baiyun-foods.example.cn",
        "phone": "+86 20 3722 6051", "region": "South China", "industry": "Food & Beverage", "size": "201-1000",
        "stage": LifecycleStage.PROSPECT, "revenue": "0.00",
        "contact_channels": ["wechat"], "opt_outs": ["email"], "verified_days_ago": 240,
        "created_days_ago": 420, "owner_rep": "sun.li@teahouse.example",
        "relationship_owner": "zhao.min@teahouse.example",
    },
    {
        "external_id": "LC-1011", "name": "Merlion Freight", "company": "Merlion Freight Pte. Ltd.",
        "domain": "merlionfreight.example", "email": "ops@merlionfreight.example",
        "phone": "+65 6555 0123", "region": "Southeast Asia", "industry": "Logistics", "size": "51-200",
        "stage": LifecycleStage.LOST_PROSPECT, "revenue": "0.00",
        "contact_channels": ["email", "phone"], "opt_outs": [], "verified_days_ago": 380,
        "created_days_ago": 530, "owner_rep": "daniel.koh@teahouse.example", "relationship_owner": MODERATOR_EMAIL,
    },
    {
        "external_id": "LC-1012", "name": "Lakeside Design Studio", "company": "苏州湖畔设计工作室",
        "domain": "lakeside-design.example.cn", "email": "studio@lakeside-design.example.cn",
        "phone": "+86 512 6588 1207", "region": "East China", "industry": "Design", "size": "1-50",
        "stage": LifecycleStage.STRANGER, "revenue": "0.00",
        "contact_channels": [], "opt_outs": [], "verified_days_ago": None,
        "created_days_ago": 6, "owner_rep": SALES_EMAIL, "relationship_owner": "zhao.min@teahouse.example",
    },
)


class DemoMember(NamedTuple):
    email: str
    name: str
    locale: str
    timezone: str
    points: int
    joined_days_ago: int
    bio: str


# Members who took no part in the demo's four months (not even a vote): their company goes quiet.
DEMO_QUIET_MEMBERS = ("liang.ying",)

MEMBERS_BY_CUSTOMER_DOMAIN = {
    "hangzhou-retail.example.cn": (
        DemoMember("wang.fang@hangzhou-retail.example.cn", "王芳", "zh", "Asia/Shanghai", 1480, 530,
                   "星辰零售数据分析负责人，用 Lumina 管理 300 多家门店的日销售看板。"),
        DemoMember("li.wei@hangzhou-retail.example.cn", "李伟", "zh", "Asia/Shanghai", 1120, 495,
                   "数据工程师，主要折腾 ETL 和 MySQL 数据源同步。"),
        DemoMember("zhang.min@hangzhou-retail.example.cn", "张敏", "zh", "Asia/Shanghai", 430, 300,
                   "会员运营，关注复购率和促销活动效果分析。"),
        DemoMember("chen.jianguo@hangzhou-retail.example.cn", "陈建国", "zh", "Asia/Shanghai", 85, 410,
                   "信息中心主任，负责集团 BI 平台选型与采购。"),
        DemoMember("xu.ting@hangzhou-retail.example.cn", "徐婷", "zh", "Asia/Shanghai", 240, 120,
                   "商品部分析师，刚从 Excel 转到 Lumina，正在学习计算字段。"),
    ),
    "nordwind-logistik.example": (
        DemoMember(MEMBER_EMAIL, "Emma Schneider", "en", "Europe/Berlin", 640, 460,
                   "Operations analyst at Nordwind. I build the on-time delivery dashboards for our Hamburg hub."),
        DemoMember("jonas.weber@nordwind-logistik.example", "Jonas Weber", "en", "Europe/Berlin", 1310, 520,
                   "Data platform lead. Happy to talk Snowflake connectors and row-level security."),
        DemoMember("lena.fischer@nordwind-logistik.example", "Lena Fischer", "en", "Europe/Berlin", 190, 210,
                   "Controlling. Mostly here for scheduled PDF reports and currency conversion questions."),
        DemoMember("tobias.braun@nordwind-logistik.example", "Tobias Braun", "en", "Europe/Berlin", 35, 45,
                   "Fleet manager, new to Lumina."),
    ),
    "jinqiao-finance.example.cn": (
        DemoMember("zhou.jie@jinqiao-finance.example.cn", "周杰", "zh", "Asia/Shanghai", 720, 235,
                   "风控数据分析师，关注权限管理和数据脱敏。"),
        DemoMember("wu.xiaoyan@jinqiao-finance.example.cn", "吴晓燕", "zh", "Asia/Shanghai", 310, 230,
                   "财务 BP，每月用 Lumina 做经营分析报告。"),
        DemoMember("zheng.hao@jinqiao-finance.example.cn", "郑浩", "en", "Asia/Shanghai", 60, 90,
                   "IT security engineer. Reviewing SSO and audit log integration."),
    ),
    "lanhai-electronics.example.cn": (
        DemoMember("huang.zhiqiang@lanhai-electronics.example.cn", "黄志强", "zh", "Asia/Shanghai", 560, 380,
                   "生产计划经理，用看板追踪良品率和产能利用率。"),
        DemoMember("lin.jia@lanhai-electronics.example.cn", "林佳", "zh", "Asia/Shanghai", 150, 330,
                   "供应链分析，正在把 ERP 数据接进 Lumina。"),
        DemoMember("he.lei@lanhai-electronics.example.cn", "何磊", "zh", "Asia/Shanghai", 20, 260,
                   "IT 运维，负责数据网关部署。"),
    ),
    "yunfan-edu.example.cn": (
        DemoMember("liu.chang@yunfan-edu.example.cn", "刘畅", "zh", "Asia/Shanghai", 880, 540,
                   "教学数据产品经理，最常在问答区出没，欢迎交流漏斗分析。"),
        DemoMember("ma.li@yunfan-edu.example.cn", "马丽", "zh", "Asia/Shanghai", 270, 350,
                   "招生运营，用 Lumina 看各渠道线索转化。"),
        DemoMember("zhao.lei@yunfan-edu.example.cn", "赵磊", "zh", "Asia/Shanghai", 5, 12,
                   "刚入职的数据分析实习生。"),
    ),
    "mapleandfinch.example": (
        DemoMember("sarah.obrien@mapleandfinch.example", "Sarah O'Brien", "en", "America/Toronto", 130, 140,
                   "Clinic operations director. Rolling out Lumina across our twelve clinics."),
        DemoMember("david.nguyen@mapleandfinch.example", "David Nguyen", "en", "America/Toronto", 75, 26,
                   "Analytics engineer, dbt fan, interested in the embedding API."),
    ),
    "sundapay.example": (
        DemoMember("arjun.mehta@sundapay.example", "Arjun Mehta", "en", "Asia/Jakarta", 410, 505,
                   "Head of data at Sunda Pay. Payments, fraud signals and too many dashboards."),
        DemoMember("putri.wulandari@sundapay.example", "Putri Wulandari", "en", "Asia/Jakarta", 95, 440,
                   "Product analyst working on merchant onboarding metrics."),
    ),
    "haihe-pharma.example.cn": (
        DemoMember("gao.feng@haihe-pharma.example.cn", "高峰", "zh", "Asia/Shanghai", 110, 70,
                   "信息部经理，正在评估 BI 平台，想看看同行的使用经验。"),
        DemoMember("luo.jing@haihe-pharma.example.cn", "罗静", "zh", "Asia/Shanghai", 40, 55,
                   "销售运营分析，关心医院渠道数据的可视化。"),
    ),
    "kestrel-robotics.example": (
        DemoMember("emily.carter@kestrel-robotics.example", "Emily Carter", "en", "America/New_York", 65, 100,
                   "VP Operations. Evaluating analytics tools for our factory telemetry."),
    ),
    "baiyun-foods.example.cn": (
        DemoMember("liang.ying@baiyun-foods.example.cn", "梁颖", "zh", "Asia/Shanghai", 55, 400,
                   "市场部数据专员，去年参加过 Lumina 广州用户沙龙。"),
    ),
    "merlionfreight.example": (
        DemoMember("tan.weiming@merlionfreight.example", "Tan Wei Ming", "en", "Asia/Singapore", 25, 510,
                   "Operations manager. Looked at Lumina for shipment tracking last year."),
    ),
    "lakeside-design.example.cn": (
        DemoMember("shen.yue@lakeside-design.example.cn", "沈悦", "zh", "Asia/Shanghai", 0, 5,
                   "独立设计工作室主理人，想给客户做数据可视化报告。"),
    ),
    None: (
        DemoMember(f"lucas.martin@{DEMO_EMAIL_DOMAIN}", "Lucas Martin", "en", "Europe/Paris", 960, 480,
                   "Freelance BI consultant in Lyon. I help SMEs set up their first Lumina workspace."),
        # Joined through Lucas's link with a throwaway address: the referral was not counted.
        DemoMember("huang.jingyi@yopmail.com", "黄静怡", "zh", "Asia/Shanghai", 345, 270,
                   "数据科学研究生，在写关于零售可视化的毕业论文。"),
    ),
}



# (referrer, friend, how): the friend joined through the referrer's link, code or email invitation.
DEMO_REFERRALS = (
    ("lucas.martin", "huang.jingyi", ReferralSource.LINK),  # a disposable address: rejected
    ("lucas.martin", "sarah.obrien", ReferralSource.LINK),  # Maple & Finch then bought: converted
    ("liu.chang", "gao.feng", ReferralSource.CODE),
    ("member", "david.nguyen", ReferralSource.CODE),        # joined after Maple & Finch bought
    ("jonas.weber", "zhao.lei", ReferralSource.LINK),
    ("wang.fang", "shen.yue", ReferralSource.LINK),
)
# (referrer, address, days ago): invitations nobody has answered yet.
DEMO_PENDING_INVITES = (
    ("member", "anna.kowalski@baltic-freight.example", 10),
    ("member", "marco.rossi@trattoria-digitale.example", 2),
)
# Maple & Finch was a prospect until its first purchase, which converts Sarah's referral.
DEMO_FIRST_PURCHASE = ("mapleandfinch.example", 28)


# -- what members say -------------------------------------------------------------------------------

class Reply(NamedTuple):
    author: str
    body: str
    hours: float | None = None     # after the topic started...
    ago: float | None = None       # ...or this many days before now
    votes: int = 0                 # up-votes from other members
    down: int = 0                  # down-votes
    key: str | None = None         # to quote it or accept it
    quote: str | None = None       # the key of the post it quotes ("op" is the first post)


class Status(NamedTuple):
    """A staff update of an idea's status, with its public reply."""
    status: str
    actor: str
    reply: str
    hours: float | None = None
    ago: float | None = None


class Edit(NamedTuple):
    """The author revises the first post."""
    body: str
    hours: float


class DemoTopic(NamedTuple):
    key: str
    category: str                  # category slug
    kind: str                      # discussion | question | idea
    author: str
    ago: float                     # days before now the topic started
    title: str
    body: str
    tags: tuple = ()
    votes: int = 0                 # up-votes on the first post
    voted_by: tuple = ()           # handles sure to be among those voters
    followers: tuple = ()          # handles following the topic from the start
    replies: tuple = ()
    accepted: str | None = None    # key of the accepted answer
    accepted_by: str | None = None  # a moderator accepting for the asker; default the asker
    statuses: tuple = ()
    edit: Edit | None = None
    pinned: bool = False
    locked: bool = False


# Follows made before any topic exists, as (who, kind, what): a category slug or a handle.
FOLLOWS = (
    ("member", "category", "questions"),
    ("jonas.weber", "category", "integrations"),
    ("david.nguyen", "category", "integrations"),
    ("wang.fang", "user", "zhao.min"),
    ("xu.ting", "user", "wang.fang"),
)

# Everyone who ever tags a topic uses one of these; the moderator created them.
TAGS = (
    "alerts", "api", "calculated-fields", "dashboards", "dbt", "dingtalk", "events", "excel", "export",
    "maintenance", "maps", "migration", "mysql", "onboarding", "performance", "permissions", "pricing",
    "rate-limit", "release-notes", "security", "sharing", "snowflake", "sso", "sync", "tableau",
    "timezone", "webhooks", "wecom",
)


ANNOUNCEMENTS = (
    DemoTopic(
        key="release-4-2", category="announcements", kind="discussion", author="moderator", ago=34.2,
        title="Lumina Cloud 4.2: DingTalk & WeCom report push, query cache and an audit-log API",
        tags=("release-notes", "dingtalk", "wecom"), votes=12, pinned=True,
        body="""Lumina Cloud 4.2 is rolling out to every workspace this week. The highlights:

- **Scheduled push to DingTalk and WeCom groups.** Any scheduled export can now post a PNG snapshot
  plus a link straight into a group chat. This was the most voted idea in the community, thank you
  to everyone who voted and tested the beta.
- **Query cache.** Dashboards on warehouse sources (Snowflake, BigQuery, ClickHouse) reuse results for
  up to 15 minutes by default. Configure it per dataset under *Settings → Performance*.
- **Audit-log API.** `GET /v2/audit-events` returns sign-ins, permission changes and exports, ready for
  your SIEM.
- **Row-level security preview.** Rules can now read attributes from the SSO profile (beta, ask us).

Full release notes: [docs.lumina.example/releases/4-2](https://docs.lumina.example/releases/4-2).
Questions about the release are welcome in *Questions & Answers*.""",
        replies=(
            Reply("zhao.min", """**中文摘要**：4.2 版本本周陆续上线。

1. 定时报表可以直接推送到钉钉群、企业微信群（图片 + 链接）；
2. 数仓数据源新增查询缓存，默认 15 分钟；
3. 新增审计日志 API，方便对接安全平台；
4. 行级权限支持读取 SSO 用户属性（测试版）。

有问题欢迎到「问答」版块提问。""", hours=1.5, votes=4),
        ),
    ),
    DemoTopic(
        key="maintenance", category="announcements", kind="discussion", author="admin", ago=9.1,
        title="Scheduled maintenance: Saturday 02:00–04:00 (UTC+8) / 周六凌晨例行维护",
        tags=("maintenance",), votes=2,
        body="""We are upgrading the metadata database of the China region this Saturday from **02:00 to 04:00
Beijing time**. Dashboards stay readable; editing, scheduled exports and API writes pause for up to
30 minutes inside that window. Exports scheduled in the window run right after it.

本周六 02:00–04:00（北京时间）升级中国区元数据库。期间看板可正常查看，编辑、定时导出和 API
写入会暂停最多 30 分钟，窗口内的定时任务会在维护结束后自动补发。""",
        replies=(
            Reply("admin", "Maintenance finished at 02:41, everything is back to normal. "
                           "维护已于 02:41 完成，所有服务恢复正常。", hours=48.7, votes=1),
        ),
    ),
)


STAFF_ROOM = (
    DemoTopic(
        key="triage", category="staff-room", kind="discussion", author="moderator", ago=0.25,
        title="Weekly triage: unanswered questions and ideas to review",
        body="""This week's list:

1. *Best way to show live truck GPS positions on a map chart?* — needs someone from the maps team.
2. *企业微信扫码登录能和现有的 AD 账号绑定吗？* — @zhao.min can you take this one?
3. Idea *Excel export that keeps number formats* has 8 votes and has been under review for two
   months. I'll ask product for a decision at Thursday's sync.

Reminder: questions older than 48 h without a reply go to the top of the queue.""",
        replies=(
            Reply("zhao.min", "好的，AD 绑定那个我来回复，顺便确认一下私有化部署版本是否支持。", hours=1),
            Reply("daniel.koh", "Heads-up from sales: Kestrel Robotics asked about the GPS map question on "
                                "our call too. If we answer publicly I'll send Emily the link.", hours=2),
            Reply("sales", "海河制药也在评估企业微信登录，高峰昨天在沙龙上问过，我这边会跟进。", hours=3),
        ),
    ),
)


QUESTIONS = (
    DemoTopic(
        key="pdf-blank-maps", category="questions", kind="question", author="lena.fischer", ago=110.4,
        title="Scheduled PDF export arrives with blank map charts",
        tags=("export", "maps"), votes=4,
        body="""Every Monday at 07:00 our *Hub KPIs* dashboard is exported to PDF and mailed to the
controlling team. Since last week, the two map charts in the PDF are empty (grey boxes), while the
bar charts are fine. In the browser everything renders.

Anyone seen this? Workspace region is EU, exports are A4 landscape.""",
        edit=Edit("""Every Monday at 07:00 our *Hub KPIs* dashboard is exported to PDF and mailed to the
controlling team. Since last week, the two map charts in the PDF are empty (grey boxes), while the
bar charts are fine. In the browser everything renders.

Anyone seen this? Workspace region is EU, exports are A4 landscape.

**Edit:** only map widgets are affected, both the filled map and the point map.""", hours=5.5),
        replies=(
            Reply("moderator", "Thanks Lena. Does a manual *Export → PDF* from the dashboard show the same "
                               "grey boxes, or only the scheduled run?", hours=3),
            Reply("lena.fischer", "Manual export works. Only the scheduled one is broken.", hours=5),
            Reply("jonas.weber", """We had exactly this. Map tiles load asynchronously, and the scheduled
renderer takes the snapshot as soon as the data queries finish, before the tiles arrive.

Open the schedule, *Advanced → Render delay*, and set it to 5 seconds. Our maps have been fine since.
The manual export waits for the tiles because it runs in your own browser.""",
                  hours=20, votes=6, key="delay"),
            Reply("lucas.martin", "Same fix worked for a client of mine. 3 seconds was enough for a "
                                  "country map, a city-level point map needed 6.", hours=26, votes=1),
        ),
        accepted="delay",
    ),
    DemoTopic(
        key="mysql-incremental", category="questions", kind="question", author="li.wei", ago=102.3,
        title="MySQL 数据源全量同步太慢，如何配置增量同步？",
        tags=("mysql", "sync", "performance"), votes=5,
        body="""我们的订单表有 1.2 亿行，每晚全量同步要跑 47 分钟，经常和早上的看板刷新撞车。

文档里提到可以做增量同步，但我在数据源设置里只看到「同步频率」，没找到按字段增量的选项。
有做过的同学吗？数据库是 MySQL 8.0，表上有 `updated_at` 字段。""",
        replies=(
            Reply("liu.chang", "我们是把大表拆成按月的视图分别同步，能缓解，但不算真正的增量。", hours=2, votes=2),
            Reply("zhao.min", """增量同步在数据集层面配置，不在数据源里：

1. 打开数据集 → **同步设置** → 同步方式选「增量」；
2. 增量字段选 `updated_at`，回溯窗口建议设 2 小时，防止事务延迟提交漏数据；
3. 删除的数据增量捕获不到，建议每周日做一次全量。

源表上最好给 `updated_at` 加索引，否则每次增量查询也会全表扫描：

```sql
ALTER TABLE orders ADD INDEX idx_orders_updated_at (updated_at);
```""", hours=4, votes=8, key="answer"),
            Reply("wang.fang", "> 删除的数据增量捕获不到，建议每周日做一次全量。\n\n"
                               "补充一下：如果业务上是软删除（`is_deleted` 字段），增量就能带过来，不用担心这个问题。",
                  hours=9, votes=1, quote="answer"),
            Reply("li.wei", "按这个配好了，夜间同步从 47 分钟降到 3 分钟左右，感谢 @zhao.min 和 @wang.fang！",
                  hours=30, votes=3),
            Reply("huang.jingyi", "收藏了，论文的数据集正好也是按天增长的大表。", ago=60),
        ),
        accepted="answer",
    ),
    DemoTopic(
        key="api-429", category="questions", kind="question", author="david.nguyen", ago=21.2,
        title="API returns 429 Too Many Requests when paginating /v2/datasets — what are the limits?",
        tags=("api", "rate-limit"), votes=3,
        body="""I'm syncing dataset metadata into our dbt docs with a small script. After roughly 60 pages of
`GET /v2/datasets?page=N` I start getting `429 Too Many Requests`, and then everything fails for a
minute. I couldn't find the exact limits in the API docs. Is it per token or per workspace?""",
        replies=(
            Reply("arjun.mehta", """It's per token: 60 requests per minute on the metadata endpoints, with a
small burst allowance. The response carries `Retry-After`, so respect that and you'll never see the
one-minute lockout. This is what we run:

```python
import time
import requests

def get(session, url, **params):
    while True:
        response = session.get(url, params=params, timeout=30)
        if response.status_code != 429:
            response.raise_for_status()
            return response.json()
        time.sleep(int(response.headers.get("Retry-After", "5")))
```

Also use `page_size=200` instead of the default 20; you'll need a tenth of the calls.""",
                  hours=1.5, votes=8, key="answer"),
            Reply("lucas.martin", "+1 on `page_size`. And if you only need changes, `updated_since=` on "
                                  "`/v2/datasets` cuts it down to a handful of requests a day.",
                  hours=3, votes=3),
            Reply("moderator", """Official numbers, until the docs page is updated:

- metadata endpoints (`/v2/datasets`, `/v2/dashboards`): 60 requests/minute per token
- query endpoints (`/v2/query`): 20 requests/minute per token
- exports: 10 concurrent jobs per workspace

Enterprise plans can raise these; your account manager can arrange it.""", hours=6, votes=2),
            Reply("david.nguyen", "> Also use `page_size=200` instead of the default 20\n\n"
                                  "That alone fixed it: 7 requests instead of 63. Thanks!",
                  hours=8, votes=1, quote="answer"),
        ),
        accepted="answer",
    ),
    DemoTopic(
        key="okta-provisioning", category="questions", kind="question", author="zheng.hao", ago=70.3,
        title="Okta SAML SSO: new users get 'account not provisioned'",
        tags=("sso", "security"), votes=3,
        body="""We connected Okta via SAML and it works for people who already had a Lumina account. Anyone
new who is assigned the app in Okta gets *"Your account has not been provisioned"* after the
redirect. Do we have to create every user by hand first? We have about 400 people to onboard.""",
        replies=(
            Reply("jonas.weber", "Did you set up SCIM as well? We provision through SCIM and never had "
                                 "this, but I think there is also a just-in-time option.", hours=5, votes=2),
            Reply("moderator", """No need to create them by hand. Under *Admin → Security → SAML*, switch on
**Just-in-time provisioning** and choose the default role for new users (usually *Viewer*).
If you want groups to map to Lumina roles, add a `groups` attribute statement in Okta and map it
under *Role mapping*. SCIM is the better choice if you also want deprovisioning when people leave.""",
                  hours=7, votes=5, key="jit"),
            Reply("zheng.hao", "> switch on **Just-in-time provisioning**\n\n"
                               "Found it, works. We'll look at SCIM next quarter for offboarding.",
                  hours=24, votes=1, quote="jit"),
        ),
    ),
    DemoTopic(
        key="row-level-security", category="questions", kind="question", author="wang.fang", ago=92.2,
        title="如何让区域经理只看到自己区域的门店数据？",
        tags=("permissions", "security"), votes=7,
        body="""我们有 6 个大区、300 多家门店，现在所有人看的是同一个《门店日销售》看板。
集团希望区域经理只能看到自己大区的门店，总部看全部。

不想给每个大区复制一份看板，否则以后改一个图要改六遍。有什么推荐做法？""",
        replies=(
            Reply("zhou.jie", """用**行级权限**就可以，一份看板搞定：

1. 在数据集上新建行级权限规则，字段选 `region`；
2. 规则值引用用户属性，比如 `{{user.region}}`；
3. 在 *管理 → 用户属性* 里给每个区域经理设置 region，总部的人加到「全部数据」用户组里跳过规则。

我们风控这边按分行做的，几千个用户也没有性能问题。记得用「以他人身份预览」检查一下效果。""",
                  hours=3, votes=11, key="rls"),
            Reply("liu.chang", "另一个办法是每个大区复制一个看板，然后在筛选器里锁定大区。"
                               "不过正如你说的，维护起来很痛苦，不推荐。", hours=5, votes=3, down=2),
            Reply("wang.fang", "> 记得用「以他人身份预览」检查一下效果。\n\n"
                               "已经上线了，预览功能太好用了。谢谢 @zhou.jie！",
                  hours=26, votes=2, quote="rls"),
        ),
        accepted="rls",
    ),
    DemoTopic(
        key="yoy-growth", category="questions", kind="question", author="xu.ting", ago=40.1,
        title="计算字段里怎么写同比增长率？去年同期没有数据时显示错误",
        tags=("calculated-fields",), votes=2,
        body="""刚从 Excel 转过来。我写了一个计算字段：

```
(SUM([销售额]) - SUM([去年同期销售额])) / SUM([去年同期销售额])
```

新开的门店去年没有数据，表格里显示 `#DIV/0`，整列排序也乱了。应该怎么写？""",
        replies=(
            Reply("wang.fang", """用内置的 `YOY()` 函数更省事，它会自己找去年同期，分母为空时返回空值：

```
YOY(SUM([销售额]), [日期])
```

然后在字段格式里把空值显示为「—」，排序时空值会排在最后。""", hours=1, votes=6, key="yoy"),
            Reply("huang.jingyi", "> 分母为空时返回空值\n\n如果要坚持自己写，也可以用 "
                                  "`NULLIF(SUM([去年同期销售额]), 0)` 做分母，效果一样。",
                  hours=4, votes=2, quote="yoy"),
            Reply("xu.ting", "用 YOY() 搞定了，新店显示「—」，排序也正常了，谢谢两位！", hours=6),
        ),
        accepted="yoy",
    ),
    DemoTopic(
        key="snowflake-slow", category="questions", kind="question", author="putri.wulandari", ago=27.3,
        title="Dashboard takes 40 s to load on a 200M-row Snowflake table",
        tags=("snowflake", "performance"), votes=8, followers=("member",),
        body="""Our merchant onboarding dashboard reads a Snowflake table with about 200 million payment
events. Every filter change takes 30–40 seconds, and our warehouse bill has doubled since people
started using it. The table is a live connection, no extract. Six charts, all grouped by day and
merchant segment. What are people doing to make this fast?""",
        replies=(
            Reply("jonas.weber", """We went through the same thing with shipment events. What helped, in order
of impact:

1. **Aggregate first.** Nobody looks at single events on a dashboard. We build a daily table in
   Snowflake (one row per day × segment × country) and point the dashboard at that. 200M rows
   became 90k.
2. **Turn on the query cache** for the dataset (new in 4.2, *Settings → Performance*). Identical
   filter combinations come back instantly for 15 minutes.
3. **Cluster the raw table** on the date column for the drill-down charts that still need it:

```sql
ALTER TABLE payment_events CLUSTER BY (TO_DATE(created_at));
```

4. Give the BI role its own small warehouse with auto-suspend at 60 s, so you can see what it
   costs.""", hours=2, votes=14, key="aggregate"),
            Reply("arjun.mehta", "Agree with all of that. We also set the default date filter to the last "
                                 "30 days instead of *all time*; most people never change it.",
                  hours=4, votes=4),
            Reply("lucas.martin", "If you can't change the warehouse side, a scheduled extract refreshed "
                                  "hourly is the quick win.", hours=7, votes=1),
            Reply("moderator", "Great write-up @jonas.weber, we're adding this to the performance guide "
                               "in the docs (with credit).", hours=9, votes=2),
            Reply("putri.wulandari", "> **Aggregate first.**\n\nDid the daily aggregate plus the cache: "
                                     "40 s → 1.8 s, and the warehouse runs a fraction of the time. Thank you!",
                  hours=48, votes=3, quote="aggregate"),
            Reply("member", "Bookmarking this. We're about to hit the same wall with scan events in Hamburg.",
                  hours=50, votes=1),
        ),
        accepted="aggregate",
    ),
    DemoTopic(
        key="timezone-shift", category="questions", kind="question", author="member", ago=30.2,
        title="On-time delivery chart shifts late-evening shipments to the next day",
        tags=("timezone", "dashboards"), votes=3,
        body="""Our on-time delivery chart counts shipments per day. Shipments delivered after 22:00 in
Hamburg show up on the *next* day, so Monday looks worse and Tuesday better than reality. The
`delivered_at` column in Postgres is `timestamptz`. My user profile is set to Europe/Berlin.
What am I missing?""",
        replies=(
            Reply("lucas.martin", "Which timezone is the workspace set to? The user setting only affects "
                                  "how timestamps are displayed, not how they are grouped.", hours=3, votes=1),
            Reply("jonas.weber", """That's it. The workspace was created with UTC, so *group by day* cuts at
midnight UTC, which is 22:00 or 23:00 in Hamburg depending on summer time.

Either change *Admin → Workspace → Timezone* to Europe/Berlin (affects every dashboard), or convert
in the dataset just for this one:

```sql
date_trunc('day', delivered_at AT TIME ZONE 'Europe/Berlin') AS delivery_day
```""", hours=5, votes=5, key="answer"),
            Reply("member", "> convert in the dataset just for this one\n\nDid that, Monday is back to "
                            "normal. Thank you @jonas.weber!", hours=6, votes=1, quote="answer"),
            Reply("tobias.braun", "Same issue in our fleet dashboards, this fixed it for us too.",
                  hours=30, votes=1),
        ),
        accepted="answer",
    ),
    DemoTopic(
        key="dingtalk-keywords", category="questions", kind="question", author="huang.zhiqiang", ago=18.3,
        title="钉钉群机器人推送报表失败，提示 keywords not in content",
        tags=("dingtalk", "export"), votes=3,
        body="""升级 4.2 以后想把《产线良品率日报》推送到钉钉群，机器人已经加好了，
但每次推送都失败，任务日志里写的是：

```
errcode 310000: keywords not in content
```

Webhook 地址确认没问题，手动测试也是同样的报错。""",
        replies=(
            Reply("he.lei", """这是钉钉机器人的安全设置导致的。你建机器人时选了「自定义关键词」，
推送的消息里必须包含其中一个关键词。两个办法：

- 在钉钉里把关键词设成「日报」，并确保报表标题里有这个词；
- 或者把安全设置改成「加签」，把密钥填到 Lumina 推送设置的 *签名密钥* 里（更推荐）。""",
                  hours=2, votes=4, key="answer"),
            Reply("lin.jia", "我们也踩过这个坑，改成加签以后就稳定了。", hours=3, votes=1),
            Reply("huang.zhiqiang", "改成加签，推送成功了，谢谢！", hours=4),
        ),
        accepted="answer", accepted_by="zhao.min",
    ),
    DemoTopic(
        key="external-sharing", category="questions", kind="question", author="sarah.obrien", ago=45.2,
        title="How do I share a dashboard with partner clinics outside our company?",
        tags=("sharing", "permissions"), votes=2,
        body="""We'd like our twelve partner clinics to see their own patient-volume dashboard, but they are
separate organisations and don't sign in through our SSO. What's the recommended way? We can't
expose patient numbers to the open internet.""",
        replies=(
            Reply("lucas.martin", """Two options:

- **Public link with password and expiry** — quick, but anyone with the link and password sees
  everything on the dashboard, so not for health data.
- **Guest accounts** — invite each clinic contact by email as a *Guest viewer*. Guests sign in with a
  password and 2FA, don't need your SSO, and row-level security applies to them, so each clinic
  only sees its own rows.

For your case I'd go with guests.""", hours=4, votes=3),
            Reply("moderator", "Lucas is right. Guest viewers are included up to 50 per workspace on your "
                               "plan; beyond that, talk to your account manager.", hours=6, votes=1),
            Reply("sarah.obrien", "Setting up guest accounts for two clinics as a pilot. I'll report back.",
                  hours=30),
        ),
    ),
    DemoTopic(
        key="wecom-ad", category="questions", kind="question", author="gao.feng", ago=0.4,
        title="企业微信扫码登录能和现有的 AD 账号绑定吗？",
        tags=("wecom", "sso"), votes=1,
        body="""我们在评估 Lumina。公司内部统一用企业微信，账号体系是 AD。
想确认一下：员工用企业微信扫码登录时，能否自动对应到 AD 里的同一个人，
而不是再建一套账号？私有化部署版本是否也支持？""",
    ),
    DemoTopic(
        key="gps-map", category="questions", kind="question", author="tobias.braun", ago=0.9,
        title="Best way to show live truck GPS positions on a map chart?",
        tags=("maps", "dashboards"), votes=1,
        body="""Our telematics provider gives us truck positions every 30 seconds (latitude, longitude,
speed). I'd like a wall-screen map with the current position of each of our 140 trucks, coloured by
delay. Is the point map chart meant for that, and how often can it refresh?""",
    ),
    DemoTopic(
        key="export-slow", category="questions", kind="question", author="zhou.jie", ago=9.3,
        title="每天早上的日报导出太慢了，有什么办法吗？", tags=("export", "performance"),
        body="""最近两周，每天早上 8 点的日报 PDF 导出要等十几分钟，以前一分钟就好。业务部门已经向我们投诉好几次了。

数据源是 MySQL，看板里有 12 个图表。请问是不是我们的配置有问题？""",
        replies=(
            Reply("wu.xiaoyan", "我们这边也一样，导出太慢，领导对这个很不满意。", hours=5),
            Reply("li.wei", "可以先看看是不是某个图表的查询特别慢，用「查询诊断」能看到每个图表的耗时。",
                  hours=20, votes=1),
        ),
    ),
    DemoTopic(
        key="scheduled-export-failing", category="questions", kind="question", author="zheng.hao", ago=5.2,
        title="Scheduled exports to our SFTP server fail since last Monday",
        tags=("export",),
        body="""Since last Monday every scheduled export to our SFTP server fails with "connection reset".
Nothing changed on our side and manual downloads still work. Is anyone else seeing this?""",
    ),
)


DISCUSSIONS = (
    DemoTopic(
        key="introductions", category="getting-started", kind="discussion", author="moderator", ago=118.2,
        title="Welcome! Introduce yourself / 欢迎来到社区，做个自我介绍吧",
        tags=("onboarding",), votes=6, followers=("member",),
        body="""Welcome to the Lumina Cloud community! This is the place to ask questions, share what you've
built and tell the product team what to build next.

Tell us who you are, what your team uses Lumina for, and one dashboard you're proud of.

欢迎来到 Lumina Cloud 社区！介绍一下你自己、你的团队用 Lumina 做什么，以及你最得意的一个看板吧。""",
        replies=(
            Reply("wang.fang", "大家好，我是星辰零售的王芳，负责数据分析。我们用 Lumina 管理 300 多家门店的日销售看板，"
                               "最得意的是一个按小时刷新的促销战况大屏。", hours=2, votes=3),
            Reply("jonas.weber", "Hi all, Jonas from Nordwind Logistik in Hamburg. I run our data platform "
                                 "(Snowflake + Lumina). Proudest dashboard: real-time hub throughput "
                                 "on a TV in the warehouse.", hours=5, votes=3),
            Reply("liu.chang", "云帆教育的刘畅，做教学数据产品。最常用的是招生漏斗和课程完课率看板，欢迎交流！",
                  hours=20, votes=2),
            Reply("arjun.mehta", "Arjun, head of data at Sunda Pay in Jakarta. Payments, fraud signals, "
                                 "and a dashboard for every merchant segment.", hours=30, votes=1),
            Reply("lucas.martin", "Lucas, freelance BI consultant in Lyon. I set up Lumina for small and "
                                  "medium companies, happy to help anyone getting started.", hours=50, votes=2),
            Reply("putri.wulandari", "Putri from Sunda Pay, product analyst on merchant onboarding. "
                                     "Mostly here to learn from you all!", hours=70, votes=1),
            Reply("li.wei", "星辰零售的李伟，数据工程师，负责 ETL 和 MySQL 同步。有数据源的问题可以找我。",
                  ago=100.5, votes=1),
            Reply("member", "Hi! Emma from Nordwind, operations analyst. I build the on-time delivery "
                            "dashboards for our Hamburg hub together with @jonas.weber and the hub team.",
                  ago=95.3, votes=1),
            Reply("zheng.hao", "Zheng Hao, IT security at Jinqiao Finance. I'll mostly be asking about "
                               "SSO and audit logs.", ago=85.6, votes=1),
            Reply("huang.jingyi", "我是黄静怡，数据科学研究生，毕业论文写零售数据可视化，"
                                  "感谢王芳老师允许我引用你们的案例 🙏", ago=80.2, votes=1),
            Reply("sarah.obrien", "Sarah, clinic operations director at Maple & Finch in Toronto. "
                                  "Rolling Lumina out to our twelve clinics this quarter.", ago=60.4, votes=1),
            Reply("david.nguyen", "David, analytics engineer at Maple & Finch. dbt fan, will be poking at "
                                  "the API.", ago=20.1, votes=1),
            Reply("zhao.lei", "大家好，我是云帆教育新来的数据分析实习生赵磊，请多指教！", ago=10.3, votes=1),
            Reply("shen.yue", "你好，我是沈悦，在苏州做设计工作室，想给客户做好看的数据报告，先来学习一下。",
                  ago=0.7, votes=1),
        ),
    ),
    DemoTopic(
        key="excel-migration", category="getting-started", kind="discussion", author="wang.fang", ago=88.2,
        title="从 Excel 迁移到 Lumina：我们踩过的五个坑",
        tags=("excel", "migration", "onboarding"), votes=18, voted_by=("member",),
        body="""星辰零售去年把 40 多张 Excel 日报迁到了 Lumina，总结一下踩过的坑，希望对新同学有用：

1. **先统一口径，再做看板。** 「销售额」在三个部门有三种算法，迁移前先开会定义清楚。
2. **别把 Excel 原样搬过来。** 一张 30 列的大表不如三个图加一个明细表。
3. **日期字段一定要是日期类型。** 文本格式的日期会让同比、环比全部失效。
4. **权限一开始就设计好。** 后期再加行级权限要返工。
5. **保留一个月的双轨期。** Excel 和看板并行，数字对上了再停掉 Excel。

欢迎补充！""",
        replies=(
            Reply("xu.ting", "> 日期字段一定要是日期类型。\n\n这条太真实了，我上周刚因为这个排查了一下午。",
                  hours=6, votes=3, quote="op"),
            Reply("li.wei", "补充第 6 条：数据源尽量直连数据库，不要上传 Excel 文件，不然每天都要有人手动更新。",
                  hours=10, votes=5),
            Reply("zhang.min", "第 5 条很重要，我们会员运营当时就是双轨跑了一个月，发现了两处口径差异。",
                  hours=30, votes=1),
            Reply("huang.jingyi", "可以引用到我的论文里吗？会注明出处。", ago=70.3),
            Reply("wang.fang", "@huang.jingyi 当然可以～", ago=70.1, votes=1),
            Reply("zhao.min", "感谢王芳的分享！已经加入社区精选，下期新用户邮件会推荐这篇。", ago=69.2, votes=2),
        ),
    ),
    DemoTopic(
        key="workspace-checklist", category="getting-started", kind="discussion", author="lucas.martin",
        ago=60.3, title="Checklist: setting up a new Lumina workspace for a 50-person company",
        tags=("onboarding", "permissions"), votes=8,
        body="""After a dozen setups for small companies, this is the order I do things in:

1. Set the **workspace timezone** and currency before anything else.
2. Connect SSO (or at least enforce 2FA).
3. Create three groups: *Admins*, *Editors*, *Viewers*. Assign people to groups, never to dashboards.
4. Connect the data sources with a **read-only** database user.
5. Build one *certified* dataset per domain (sales, finance, operations) and let people build on those.
6. Make a *Start here* dashboard with links and a short glossary.
7. Schedule the first weekly export so people get value in their inbox from week one.

What would you add?""",
        replies=(
            Reply("sarah.obrien", "This is gold. Point 1 would have saved us a week of confusion.",
                  hours=8, votes=2),
            Reply("moderator", "Love this list, Lucas. Would you mind if we link it from the onboarding "
                               "guide?", hours=12, votes=1),
            Reply("member", "> Set the **workspace timezone** and currency before anything else.\n\n"
                            "Learned that one the hard way, see my timezone question. Thanks @lucas.martin!",
                  ago=29.8, votes=1, quote="op"),
        ),
    ),
    DemoTopic(
        key="data-masking", category="questions", kind="discussion", author="zhou.jie", ago=50.2,
        title="数据安全：大家怎么做敏感字段脱敏？",
        tags=("security", "permissions"), votes=5,
        body="""金融行业对客户手机号、身份证号要求很严。我们目前在数据库视图里做脱敏，
但分析师有时需要按手机号去重，视图一脱敏就没法用了。

想听听大家的做法：在数仓层脱敏，还是在 Lumina 里用列级权限？""",
        replies=(
            Reply("wu.xiaoyan", "我们财务这边是在数仓层做哈希，保留去重能力但看不到原文，分析够用了。",
                  hours=3, votes=3),
            Reply("zheng.hao", "We combine both: hashed columns in the warehouse for analysts, and Lumina "
                               "column-level permissions so only two people can see the clear-text view. "
                               "The audit log tells us who exported what.", hours=5, votes=3),
            Reply("liu.chang", "教育行业也有类似要求（学生信息），我们用的是和 @wu.xiaoyan 一样的哈希方案。",
                  hours=20, votes=1),
        ),
    ),
    DemoTopic(
        key="dbt-docs", category="integrations", kind="discussion", author="david.nguyen", ago=14.2,
        title="Our dbt + Lumina setup: syncing model docs into dataset descriptions",
        tags=("dbt", "api"), votes=5,
        body="""We keep all metric definitions in dbt, and people kept asking "what does this column mean?"
in Lumina. So after each `dbt run` in CI we push the model and column descriptions to the matching
Lumina datasets:

```python
for model in manifest["nodes"].values():
    dataset = datasets.get(model["name"])
    if dataset:
        api.patch(f"/v2/datasets/{dataset['id']}", json={
            "description": model["description"],
            "columns": {c: v["description"] for c, v in model["columns"].items()},
        })
```

Dataset descriptions show up as tooltips on every chart built on them. Happy to share the full
script.""",
        replies=(
            Reply("jonas.weber", "Nice. We do the same but also tag certified datasets from the dbt "
                                 "`meta` block. Makes the certified badge impossible to forget.",
                  hours=4, votes=2),
            Reply("lucas.martin", "Would love the full script, a few of my clients are on dbt Cloud.",
                  hours=9, votes=1),
            Reply("arjun.mehta", "Watch the rate limit if you have hundreds of models, see the 429 thread. "
                                 "Batching with `page_size=200` helped us.", hours=30, votes=1),
            Reply("moderator", "@david.nguyen would you present this at the next online meetup? "
                               "Twenty minutes, screen share, we'll handle the rest.", hours=33, votes=1),
        ),
    ),
    DemoTopic(
        key="wecom-daily", category="integrations", kind="discussion", author="liu.chang", ago=65.2,
        title="分享：用企业微信机器人每天早上 8 点推送招生日报",
        tags=("wecom", "api"), votes=10,
        body="""在 4.2 原生支持之前，我们用一个小脚本每天早上把招生日报推到企业微信群，
招生老师一上班就能看到昨天的线索数和转化率。思路：

1. 用 Lumina API 导出看板截图：`POST /v2/dashboards/{id}/exports`，格式 `png`；
2. 上传图片到企业微信，拿到 `media_id`；
3. 调机器人 Webhook 发送图片消息：

```json
{
  "msgtype": "image",
  "image": {"base64": "...", "md5": "..."}
}
```

跑了三个月很稳定，定时任务放在 Jenkins 上。""",
        replies=(
            Reply("ma.li", "这个日报现在是我们招生团队每天早上第一件事 😄", hours=2, votes=2),
            Reply("he.lei", "> 定时任务放在 Jenkins 上\n\n内网 Jenkins 访问企业微信需要走代理吗？我们这边出网有限制。",
                  hours=5, votes=1, key="proxy", quote="op"),
            Reply("liu.chang", "> 内网 Jenkins 访问企业微信需要走代理吗？\n\n需要，我们配置了 `HTTPS_PROXY` "
                               "环境变量，只放行 qyapi.weixin.qq.com。", hours=6, votes=1, quote="proxy"),
            Reply("zhao.min", "感谢分享！4.2 版本会原生支持推送到企业微信和钉钉，到时候就不用自己维护脚本了。",
                  hours=10, votes=3),
            Reply("wang.fang", "4.2 上线后我们已经切到原生推送了，配置五分钟搞定。", ago=30.4, votes=1),
        ),
    ),
    DemoTopic(
        key="teams-thresholds", category="integrations", kind="discussion", author="jonas.weber", ago=38.3,
        title="Webhook alerts to Teams: what thresholds do you actually use?",
        tags=("webhooks", "alerts"), votes=4,
        body="""We started sending alerts to a Teams channel through webhooks when hub throughput drops. First
week: 140 alerts, and by Friday everybody had muted the channel. Now we alert only when a metric
is outside its 4-week band for two consecutive checks. How do you keep alerts useful?""",
        replies=(
            Reply("member", "For on-time delivery we only alert below 92% and only between 06:00 and "
                            "22:00. Nobody can act on it at 3 am anyway.", hours=3, votes=2),
            Reply("arjun.mehta", "Like @member's quiet hours, we route by severity: fraud spikes page the "
                                 "on-call person, everything else goes into a daily digest. Digest = one "
                                 "message instead of forty.",
                  hours=6, votes=3),
            Reply("lena.fischer", "Controlling gets a weekly summary instead of alerts. We only want to hear "
                                  "about it if the month-end forecast moves by more than 2%.",
                  hours=20, votes=1, key="weekly"),
            Reply("jonas.weber", "> We only want to hear about it if the month-end forecast moves by more "
                                 "than 2%.\n\nThat's a good pattern, alert on the forecast instead of the raw "
                                 "number. Stealing it.", hours=22, votes=1, quote="weekly"),
        ),
    ),
    DemoTopic(
        key="tableau-migration", category="integrations", kind="discussion", author="lucas.martin", ago=75.2,
        title="Migrating a client from Tableau to Lumina: notes after 3 projects",
        tags=("migration", "tableau"), votes=9,
        body="""I've now moved three clients from Tableau Server to Lumina. Short notes:

- **Calculated fields** translate almost 1:1; LOD expressions need rewriting as dataset-level
  aggregations.
- **Extracts** become scheduled syncs. Plan the schedule around the source system's batch jobs.
- **Permissions** are simpler in Lumina (groups + row-level rules), take the chance to clean up.
- **Users** care about two things only: their favourite dashboard looks the same, and the Monday
  email still arrives. Rebuild those first.

Typical timeline for 50 dashboards: 6–8 weeks including a parallel run.""",
        replies=(
            Reply("emily.carter", "Very useful, we're evaluating exactly this. How did you handle Tableau "
                                  "Prep flows?", hours=8, votes=1, key="prep"),
            Reply("lucas.martin", "> How did you handle Tableau Prep flows?\n\nMoved them into the warehouse "
                                  "as SQL (dbt in one case). Lumina datasets can do light transformation, "
                                  "but heavy prep belongs upstream.", hours=10, votes=3, quote="prep"),
            Reply("daniel.koh", "Thanks Lucas. @emily.carter if it helps, we can connect you with a "
                                "migration partner for a scoping call.", hours=30, votes=1),
            Reply("tan.weiming", "We looked at this last year and the LOD rewrite was what scared us. "
                                 "Good to know it's manageable.", hours=40, votes=1),
            Reply("sarah.obrien", "Our Tableau licences expire in spring, saving this thread.", ago=50.3),
        ),
    ),
    DemoTopic(
        key="viewer-pricing", category="getting-started", kind="discussion", author="emily.carter", ago=25.2,
        title="Viewer licence pricing changed at renewal?",
        tags=("pricing",), votes=1, locked=True,
        body="""Our renewal quote shows viewer seats at a different price than last year. Has the pricing
model changed? Anyone else seeing this?""",
        replies=(
            Reply("tan.weiming", "We saw a different quote too last year, but it was a bundle thing.",
                  hours=2),
            Reply("arjun.mehta", "Ours didn't change, but we're on an annual enterprise plan.", hours=4),
            Reply("moderator", "Thanks for raising it, Emily. Quotes depend on each contract, so we can't "
                               "discuss them here. @daniel.koh will reach out to you directly today. "
                               "I'm locking this topic; the public price list is on the pricing page.",
                  hours=6, votes=1),
        ),
    ),
    DemoTopic(
        key="dashboard-naming", category="getting-started", kind="discussion", author="arjun.mehta", ago=47.2,
        title="How do you organise 300+ dashboards? Naming and folder conventions",
        tags=("dashboards",), votes=6,
        body="""We're at 340 dashboards and finding anything is painful. Half of them are "copy of copy of".
How do you organise yours? Folders by team, by domain, naming prefixes? And how do you get rid of
the dead ones?""",
        replies=(
            Reply("wang.fang", "我们按业务域建文件夹（销售 / 商品 / 会员 / 门店），每个看板名字前加负责人缩写，"
                               "每季度清理 90 天没人看过的看板。", hours=3, votes=3),
            Reply("putri.wulandari", "Usage stats are the key. *Admin → Usage* shows views per dashboard; "
                                     "we archive anything with zero views in 60 days.", hours=5, votes=3),
            Reply("lucas.martin", "Prefix certified ones with ★ and pin them on the home page. "
                                  "People stop copying when they trust the official version.", hours=8, votes=4),
            Reply("member", "We have a *Sandbox* folder per person. Anything outside sandboxes needs an "
                            "owner in the description.", hours=12, votes=1),
            Reply("jonas.weber", "Late to this, but we now require a description and owner via the API "
                                 "before a dashboard can be moved out of a sandbox. Cut our count by a third.",
                  ago=3.1, votes=1),
        ),
    ),
    DemoTopic(
        key="bi-selection", category="getting-started", kind="discussion", author="chen.jianguo", ago=6.2,
        title="集团 BI 平台选型：Lumina 和自建 Superset 的对比，大家怎么看？",
        tags=("migration",), votes=3,
        body="""集团明年要统一 BI 平台，内部有声音建议用开源 Superset 自建，省许可费。
我们目前零售板块在用 Lumina，其他板块还没定。想听听有过对比经验的同行怎么看，
特别是运维成本和权限管理这两块。""",
        replies=(
            Reply("li.wei", "我们技术团队之前试过 Superset，图表本身够用，但行级权限、定时推送、SSO 都要自己开发维护，"
                            "算上人力其实不省钱。", hours=3, votes=3),
            Reply("zhou.jie", "金融这边主要看审计和权限，自建的话审计日志要自己补，合规检查压力很大。",
                  hours=5, votes=2),
            Reply("gao.feng", "我们也在评估阶段，同样关心这个问题，坐等结论。", hours=8, votes=1),
            Reply("huang.jingyi", "从研究角度补充一点：自建方案最大的隐性成本是版本升级，开源社区升级节奏很快。",
                  hours=30),
            Reply("zhao.min", "感谢各位的分享。陈主任如果需要，我们可以安排一次和产品团队的线上交流，"
                              "也可以提供私有化部署的方案说明。", ago=0.3, votes=1),
        ),
    ),
    DemoTopic(
        key="renewal-quote", category="getting-started", kind="discussion", author="wu.xiaoyan", ago=3.4,
        title="对今年的续费报价不太满意",
        body="""今年的续费报价比去年高了将近 30%，但导出速度反而变慢了。我们内部已经在讨论要不要换供应商。

想听听其他客户的看法：你们今年的续费涨了多少？""",
        replies=(
            Reply("zhou.jie", "同意。上个月导出出问题时我们还提过退款，到现在没有结论。", hours=3),
        ),
    ),
)


IDEAS = (
    DemoTopic(
        key="dingtalk-push", category="ideas", kind="idea", author="wang.fang", ago=115.3,
        title="定时报表支持推送到钉钉群（图片 + 链接）",
        tags=("dingtalk", "export"), votes=24, voted_by=("member",),
        body="""门店店长都在钉钉上，不看邮件。希望定时报表能直接推送到钉钉群，
内容是看板截图加一个跳转链接，点开就能看明细。""",
        statuses=(
            Status("under_review", "zhao.min", "收到，很多零售客户都有同样的需求，产品团队正在评估。", hours=48),
            Status("planned", "zhao.min", "已排入 4.2 版本，企业微信会一起支持。", ago=90.2),
            Status("in_progress", "moderator", "Development started; a beta for a few workspaces opens "
                                               "next month. 开发中，下月开放内测。", ago=60.1),
            Status("done", "moderator", "Shipped in 4.2 🎉 See the release announcement. 已在 4.2 版本上线！",
                   ago=34.1),
        ),
        replies=(
            Reply("huang.zhiqiang", "+1，我们工厂的班组长也只看钉钉。", hours=5, votes=2),
            Reply("liu.chang", "希望也能支持企业微信，教育行业用企业微信的多。", hours=20, votes=3),
            Reply("li.wei", "已经用上了，门店反馈很好！", ago=33.2, votes=1),
        ),
    ),
    DemoTopic(
        key="wecom-alerts", category="ideas", kind="idea", author="ma.li", ago=58.2,
        title="企业微信告警推送：支持 @ 指定负责人",
        tags=("wecom", "alerts"), votes=13,
        body="""现在阈值告警可以推到企业微信群，但群里人多，消息很容易被刷掉。
希望告警规则里能配置「负责人」，推送时自动 @ 对应的人。""",
        statuses=(
            Status("planned", "zhao.min", "已排入 4.3 版本计划，钉钉也会同步支持 @ 指定成员。", ago=35.3),
        ),
        replies=(
            Reply("liu.chang", "强烈支持，招生线索告警必须马上有人跟进。", hours=3, votes=3),
            Reply("he.lei", "最好能按告警级别 @ 不同的人，比如严重告警 @ 值班人员。", hours=10, votes=2),
            Reply("zhao.lei", "实习生表示每天都在群里找告警消息……支持！", ago=8.2),
        ),
    ),
    DemoTopic(
        key="sso-rls", category="ideas", kind="idea", author="jonas.weber", ago=85.2,
        title="Row-level security driven by SSO group claims",
        tags=("sso", "permissions", "security"), votes=11, voted_by=("member",),
        body="""Today row-level rules read user attributes that we maintain by hand in Lumina. We already
have region and cost-centre in Azure AD. Please let row-level rules use attributes and groups from
the SAML/OIDC assertion, refreshed at every sign-in, so access follows HR changes automatically.""",
        statuses=(
            Status("under_review", "moderator", "Thanks Jonas, this comes up in every enterprise "
                                                "evaluation. Reviewing with the security team.", ago=80.1),
            Status("planned", "moderator", "Planned for the 4.x cycle; a preview will be in 4.2.", ago=50.2),
            Status("in_progress", "moderator", "In beta with three workspaces. @jonas.weber, you're one of "
                                               "them, check your inbox.", ago=12.2),
        ),
        replies=(
            Reply("zhou.jie", "金融行业非常需要，人员调岗后权限必须当天生效。", hours=6, votes=3),
            Reply("zheng.hao", "Please include OIDC, not only SAML. We're moving to OIDC next year.",
                  hours=20, votes=2),
            Reply("jonas.weber", "Beta is running on our EU workspace, the group mapping works nicely.",
                  ago=5.2, votes=1),
        ),
    ),
    DemoTopic(
        key="excel-formats", category="ideas", kind="idea", author="lena.fischer", ago=72.3,
        title="Excel export that keeps number formats and currency symbols",
        tags=("excel", "export"), votes=8,
        body="""When we export a table to Excel, € amounts arrive as plain numbers and percentages as
0.0734. Controlling then reformats every sheet by hand before it goes to management. Please keep
the number formats from the dashboard in the .xlsx export.""",
        statuses=(
            Status("under_review", "moderator", "Reviewing. Could you tell us which formats matter most "
                                                "besides currency and percent?", ago=68.1),
        ),
        replies=(
            Reply("wu.xiaoyan", "财务这边同样需要，千分位和负数红色显示也希望保留。", hours=9, votes=2),
            Reply("arjun.mehta", "And dates: they currently arrive as text in some locales.", hours=30, votes=1),
        ),
    ),
    DemoTopic(
        key="chart-annotations", category="ideas", kind="idea", author="putri.wulandari", ago=26.3,
        title="Annotations on charts: mark a promo or an outage on the timeline",
        tags=("dashboards",), votes=6, voted_by=("member",),
        body="""When a metric jumps, the first question in every meeting is "what happened that day?".
Being able to add a note on a date in a time-series chart ("payment gateway outage", "Ramadan promo
starts") would save us a lot of Slack archaeology.""",
        replies=(
            Reply("zhang.min", "支持！促销活动的起止时间如果能标在趋势图上，复盘时一目了然。", hours=2, votes=2),
            Reply("member", "Yes please. We'd mark strikes and storms on the delivery charts.", hours=5, votes=1),
        ),
    ),
    DemoTopic(
        key="desktop-app", category="ideas", kind="idea", author="emily.carter", ago=64.2,
        title="Offline desktop version for air-gapped factory networks",
        tags=("security",), votes=3,
        body="""Some of our plants have no internet access at all for security reasons. An installable
desktop version that works fully offline would let us use Lumina there too.""",
        statuses=(
            Status("declined", "moderator", """Thank you for the detailed request. We won't build a desktop
app: keeping two products in step would slow everything else down. For air-gapped sites, Lumina
**private deployment** runs entirely inside your network, and the on-premise data gateway covers
plants with outbound-only connectivity. Happy to walk you through both.""", ago=55.1),
        ),
        replies=(
            Reply("he.lei", "我们工厂用的是数据网关方案，只开放出站端口，安全部门是认可的。", hours=6, votes=1),
            Reply("emily.carter", "Understood, private deployment might work for us. @daniel.koh can we "
                                  "set up a call?", ago=54.3),
        ),
    ),
    DemoTopic(
        key="tv-mode", category="ideas", kind="idea", author="sarah.obrien", ago=0.6,
        title="Dark TV mode for wall-mounted dashboards",
        tags=("dashboards",), votes=2,
        body="""Our clinics show wait-time dashboards on TVs in the waiting rooms. A dark, high-contrast
"TV mode" that hides the toolbar and rotates between dashboards every N seconds would be perfect.""",
        replies=(
            Reply("lucas.martin", "+1, I currently do this with a browser kiosk extension and it's fragile.",
                  hours=3, votes=1),
        ),
    ),
    DemoTopic(
        key="ratelimit-headers", category="ideas", kind="idea", author="david.nguyen", ago=19.2,
        title="Return X-RateLimit-* headers on every API response",
        tags=("api", "rate-limit"), votes=5,
        body="""Right now we only learn about the limit when we hit a 429. Returning `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` on every response would let clients slow down
before they get blocked.""",
        statuses=(
            Status("under_review", "moderator", "Good call, checking with the API team.", hours=20),
            Status("planned", "moderator", "Planned for API v2.3 together with per-endpoint limits in the "
                                           "docs.", ago=10.2),
        ),
        replies=(
            Reply("arjun.mehta", "Yes. GitHub-style headers would make backoff trivial.", hours=2, votes=1),
        ),
    ),
)


TOPICS = ANNOUNCEMENTS + STAFF_ROOM + QUESTIONS + DISCUSSIONS + IDEAS


# -- the CRM side: what the company knows about each account beyond the basics ---------------------

# external id -> products owned: (product, bought days ago, quantity)
# -- moderation: what waits in the review queue, and a member already warned once -----------------------

DEMO_WATCHED_WORDS = "加微信\n刷单\n代理加盟\nreplica\ncrypto"


class DemoModeratedReply(NamedTuple):
    key: str
    topic: str      # a DemoTopic key
    author: str
    ago: float      # days before now
    body: str


class DemoFlag(NamedTuple):
    post: str       # a DemoModeratedReply key
    flagger: str
    reason: str
    ago: float
    text: str = ""


DEMO_MODERATED_REPLIES = (
    DemoModeratedReply("rude-old", "yoy-growth", "tan.weiming", 20.2, "这种问题文档里都写着，自己不会先查一下吗？"),
    DemoModeratedReply("rude", "gps-map", "tan.weiming", 0.5,
                       "Read the manual. This gets asked every week and nobody bothers to search first."),
    DemoModeratedReply("job-ad", "bi-selection", "huang.jingyi", 0.25,
                       "顺便问一下，有没有公司在招数据分析师？我想投简历，Tableau 和 Lumina 都会。"),
    # Uses a watched word (加微信): held for a moderator before anyone sees it.
    DemoModeratedReply("plugin-ad", "export-slow", "shen.yue", 0.3,
                       "导出慢可以试试我们的加速插件，加微信 lumina-speedup 免费试用一个月。"),
)
DEMO_FLAGS = (
    DemoFlag("rude-old", "xu.ting", "abusive", 20.1),
    DemoFlag("rude-old", "wang.fang", "abusive", 20.0, "对新人太不友好了"),
    # Three flags hide the post until a moderator looks.
    DemoFlag("rude", "tobias.braun", "abusive", 0.45, "Not helpful, and rude to a new member."),
    DemoFlag("rude", "lena.fischer", "abusive", 0.4),
    DemoFlag("rude", "jonas.weber", "off_topic", 0.35),
    DemoFlag("job-ad", "emily.carter", "off_topic", 0.2, "Job hunting in a thread about choosing a BI tool"),
)
# (post key, moderator, decision, its details, days ago): the earlier rude reply was hidden and its author warned,
# and he acknowledged the warning half a day later.
DEMO_DECISIONS = (
    ("rude-old", "moderator", "warn", {"reason": "请友善地回答问题：新成员提问时，给出链接或思路，而不是指责。"}, 19.9),
)
DEMO_WARNING_ACKNOWLEDGED_AGO = 19.4
DEMO_MEMBER_NOTES = (
    ("moderator", "tan.weiming", "第二次对新人不友好的回复。回答质量其实很高，私信聊过一次；再有一次就禁言一周。", 0.2),
)


DEMO_PRODUCTS = {
    "LC-1001": (("Lumina Analytics Enterprise", 1420, 300), ("Lumina Embed", 400, 1),
                ("Lumina Data Connectors", 65, 12)),
    "LC-1002": (("Lumina Analytics Enterprise", 1090, 180), ("Lumina Embed", 150, 1)),
    "LC-1003": (("Lumina Analytics Pro", 700, 60), ("Lumina Governance Pack", 200, 1)),
    "LC-1004": (("Lumina Analytics Pro", 2600, 40),),
    "LC-1005": (("Lumina Analytics Pro", 900, 35), ("Lumina Analytics Pro", 530, 10)),
    "LC-1006": (("Lumina Analytics Team", 500, 20),),
    "LC-1007": (("Lumina Analytics Team", 800, 15),),
    "LC-1008": (),
    "LC-1009": (),
    "LC-1010": (),
    "LC-1011": (),
    "LC-1012": (),
}

# external id -> (source, preferred language, tags)
DEMO_RECORD_DETAILS = {
    "LC-1001": ("partner", "zh", ("retail", "华东", "reference customer")),
    "LC-1002": ("event", "en", ("logistics", "DACH")),
    "LC-1003": ("import", "zh", ("finance", "合规")),
    "LC-1004": ("website", "zh", ("manufacturing", "replacement due")),
    "LC-1005": ("referral", "zh", ("education",)),
    "LC-1006": ("website", "en", ("healthcare", "HIPAA")),
    "LC-1007": ("partner", "en", ("fintech", "SEA")),
    "LC-1008": ("event", "zh", ("pharma",)),
    "LC-1009": ("community", "en", ("robotics", "trial")),
    "LC-1010": ("import", "zh", ("food",)),
    "LC-1011": ("import", "en", ("freight",)),
    "LC-1012": ("community", "zh_Hant", ()),
}


class DemoTouchpoint(NamedTuple):
    external_id: str
    channel: str
    staff: str           # email of the staff member who had the contact
    days_ago: float
    contact: str
    summary: str
    follow_up_in_days: int | None = None


DEMO_TOUCHPOINTS = (
    DemoTouchpoint("LC-1010", "event", "sun.li@teahouse.example", 130, "梁颖",
                   "广州食品行业展会上交流：对供应链看板感兴趣，说年后再联系。"),
    DemoTouchpoint("LC-1001", "meeting", SALES_EMAIL, 110, "陈建国",
                   "年度业务回顾：门店看板覆盖 320 家门店，明年计划接入会员系统数据。"),
    DemoTouchpoint("LC-1001", "call", "zhao.min@teahouse.example", 75, "王芳",
                   "回访社区使用情况：团队每周在问答区提问，希望增加中文培训视频。"),
    DemoTouchpoint("LC-1001", "ticket", "zhao.min@teahouse.example", 40, "李伟",
                   "Ticket #4711: MySQL connector times out on the nightly sync for tables over 50M rows.", 7),
    DemoTouchpoint("LC-1001", "event", SALES_EMAIL, 21, "王芳、张敏",
                   "参加杭州 Lumina 用户大会，王芳分享了门店日报看板的案例。"),
    DemoTouchpoint("LC-1001", "email", SALES_EMAIL, 6, "陈建国",
                   "发送 300 席位续费及 Data Connectors 扩容报价，对方说下周内部评审。", 3),
    DemoTouchpoint("LC-1002", "meeting", "daniel.koh@teahouse.example", 60, "Jonas Weber",
                   "QBR in Hamburg: happy with Embed, asked about SSO with Azure AD before renewal."),
    DemoTouchpoint("LC-1002", "call", MODERATOR_EMAIL, 12, "Anna Schmidt",
                   "Checked in after her forum question on row-level security; shared the docs and a sample.", 10),
    DemoTouchpoint("LC-1003", "visit", SALES_EMAIL, 35, "刘总",
                   "上门拜访：数据治理包上线顺利，合规部门希望增加审计日志导出。"),
    DemoTouchpoint("LC-1004", "call", "sun.li@teahouse.example", 50, "IT 部",
                   "Pro 版已用 7 年，替换周期将到，客户在比较新版本的 AI 功能。", 20),
    DemoTouchpoint("LC-1007", "email", "daniel.koh@teahouse.example", 95, "Budi Santoso",
                   "Renewal lapsed; they moved reporting to a spreadsheet tool. Asked what would bring them back."),
    DemoTouchpoint("LC-1009", "meeting", "daniel.koh@teahouse.example", 9, "Priya Raman",
                   "Trial kickoff for 10 seats; they want a pricing proposal for 40 seats after the pilot.", 10),
)


class DemoNote(NamedTuple):
    external_id: str
    author: str
    days_ago: float
    body: str


DEMO_NOTES = (
    DemoNote("LC-1001", SALES_EMAIL, 100,
             "承诺 Q1 前提供两场中文线上培训；如果续费 300 席位，可给 Data Connectors 8 折。"),
    DemoNote("LC-1001", "zhao.min@teahouse.example", 30,
             "王芳是社区里最活跃的专家之一，愿意做客户案例分享。别在促销季打扰李伟，他负责夜间同步。"),
    DemoNote("LC-1002", "daniel.koh@teahouse.example", 58,
             "We promised the SSO answer before their renewal committee meets in spring."),
    DemoNote("LC-1002", MODERATOR_EMAIL, 11,
             "Anna asked two good questions this month; worth inviting her to the beta of row-level security."),
    DemoNote("LC-1007", "daniel.koh@teahouse.example", 90,
             "Win-back candidate: price was not the issue, missing Bahasa reports was."),
    DemoNote("LC-1001", SALES_MANAGER_EMAIL, 4,
             "续费报价已审批：300 席位按原价，Data Connectors 扩容 8 折，有效期到月底。"),
)

# An imported record that claims a domain another customer already has: the conflicts list shows it.
DEMO_CONFLICTING_IMPORT = {
    "external_id": "LC-2042", "name": "Xingchen Retail (Shanghai branch)", "company": "星辰零售上海分公司",
    "domains": "hangzhou-retail.example.cn", "source": "import", "region": "East China", "industry": "Retail",
}
# ...and the member who signed up while it was there, waiting to be linked by a person.
DEMO_WAITING_MEMBER = ("he.jing@hangzhou-retail.example.cn", "何静", 2)


# -- what the CRM's rules make of the accounts, in the demo's history ------------------------------

# The nightly lifecycle rules as they ran for one account: (days ago, external id).
DEMO_RULE_RUNS = (
    (135, "LC-1005"),   # Yunfan's renewal lapsed: churned
    (30, "LC-1007"),    # so did Sunda Pay's
    (5, "LC-1010"),     # Baiyun Foods, silent for over 90 days: a dormant prospect
)

# A churned customer buys again: (external id, days ago, record changes).
DEMO_WIN_BACK = ("LC-1005", 30, {"revenue": "150000.00", "renewal_in_days": 335,
                                 "product": ("Lumina Analytics Pro", 15)})

# Who a churned customer left for: (external id, days ago, staff email, competitor).
DEMO_LOST_TO = ("LC-1007", 28, MODERATOR_EMAIL, "Tableau Cloud")

# Years until a product is usually replaced (the admin's customer rules).
DEMO_PRODUCT_CYCLES = {"Lumina Analytics Pro": 8, "Lumina Analytics Enterprise": 8, "Lumina Analytics Team": 5}

# Saved segments the community team uses.
DEMO_SEGMENTS = (
    {"name": "Key and valued customers at risk", "description": "Who the retention queue is about.",
     "match": "all", "rules": [{"field": "value_tier", "op": "in", "value": ["key", "valued"]},
                               {"field": "churn_risk", "op": "in", "value": ["medium", "high"]}]},
    {"name": "Renewals in the next 90 days", "description": "Customers to thank before they renew.",
     "match": "all", "rules": [{"field": "renewal_date", "op": "within_next_days", "value": 90},
                               {"field": "has_members", "op": "is", "value": True}]},
    {"name": "Chinese-speaking champions", "description": "Candidates for the community advisory board.",
     "match": "all", "rules": [{"field": "engagement_level", "op": "in", "value": ["champion", "engaged"]},
                               {"field": "preferred_language", "op": "is", "value": "zh"}]},
)

# -- leads --------------------------------------------------------------------------------------------
# The demo's posts and referrals make their own leads as they are played (buying words, friends joining).
# How sales worked them: (days ago, external id of the lead's customer, who, what, details), in any order.
# "sweep" is the daily run returning neglected leads to the pool; "visit" a churned customer's member
# coming back (a win-back lead), which the manager then assigns.
INTERNATIONAL_REP, CHINA_REP = "daniel.koh@teahouse.example", "sun.li@teahouse.example"
DEMO_LEAD_WORK = (
    (20, "LC-1006", INTERNATIONAL_REP, "claim", {}),
    (18, "LC-1006", INTERNATIONAL_REP, "note", {"note": "Sarah's team likes the Tableau migration notes; "
                                                        "budget owner is the CFO."}),
    (9, "LC-1006", INTERNATIONAL_REP, "lost", {"lost_reason": "Budget frozen until Q2; revisit in April.",
                                               "note": "CFO confirmed the freeze on a call."}),
    (15, "LC-1008", CHINA_REP, "claim", {}),
    (7, None, None, "sweep", {}),
    (12, "LC-1009", INTERNATIONAL_REP, "claim", {}),
    (11, "LC-1009", INTERNATIONAL_REP, "contacted", {"note": "Emily wants viewer licences for 40 engineers."}),
    (8, "LC-1009", INTERNATIONAL_REP, "qualified", {"note": "Pilot with two teams went well; procurement next."}),
    (2, "LC-1009", INTERNATIONAL_REP, "won", {"value": "36000", "products": ["Lumina Analytics Team"],
                                              "note": "Signed: 40 Team seats for one year."}),
    (6, "LC-1005", SALES_EMAIL, "claim", {}),
    (5, "LC-1005", SALES_EMAIL, "contacted", {"note": "赵磊推荐的分校也想用，约了下周演示。"}),
    (1, "LC-1005", SALES_EMAIL, "qualified", {"note": "演示顺利，三所分校共 60 个账号，等预算审批。"}),
    (4, "LC-1004", CHINA_REP, "claim", {}),
    (3, "LC-1003", SALES_EMAIL, "claim", {}),
    (2, "LC-1003", SALES_EMAIL, "contacted", {"note": "电话沟通了续费报价：客户希望先解决导出变慢的问题，"
                                                      "已拉上技术支持一起跟进。"}),
    (0, "LC-1007", "putri.wulandari@sundapay.example", "visit", {}),
    (0, "LC-1007", SALES_MANAGER_EMAIL, "assign", {"to": SALES_EMAIL}),
    (0, "LC-1007", SALES_EMAIL, "contacted", {"note": "Putri is back on the forum; booked a call to hear what "
                                                      "Tableau Cloud lacks for them."}),
)
