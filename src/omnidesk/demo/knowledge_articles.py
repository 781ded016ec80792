"""The demo operator's knowledge base: what its help centre says and how customers ask.

Each article is written in simplified Chinese with a traditional-Chinese translation (the
vocabulary of Taiwan and Hong Kong: 寬頻, 帳單, 儲值, 攜碼), most also in English. The first
paragraph of every body is the short answer the bot quotes; the steps follow. Example
questions are written the way customers type them: colloquial, with typos, mixed scripts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    title: str
    body: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class ArticleSpec:
    key: str
    owner: str  # a staff key (omnidesk.demo.staff)
    product: str | None
    tags: tuple[str, ...]
    review_days: int  # review-by, in days from the seeding day (negative: already past)
    texts: dict[str, Text]  # locale → text; zh-CN first (the group's original)
    visibility: str = "public"


BROADBAND = ArticleSpec(
    "broadband-down", "chen_jing", "千兆宽带", ("宽带", "故障", "网速"), 90, {
        "zh-CN": Text(
            "宽带断网或网速慢怎么办",
            "先把光猫和路由器断电 1 分钟再开机，大多数断网和网速慢都能恢复；如果光猫的 LOS "
            "灯亮红灯，是线路故障，请直接报修，师傅一般 24 小时内上门。\n\n"
            "## 自己先检查\n\n"
            "1. 看光猫指示灯：PON 灯常亮、LOS 灯不亮为正常；LOS 红灯闪烁说明光纤中断。\n"
            "2. 光猫、路由器断电 1 分钟后重新开机，等 3 分钟再试。\n"
            "3. 用网线直连光猫测速（掌上营业厅 App →「宽带测速」），排除 Wi-Fi 信号问题。\n"
            "4. 确认宽带没有欠费停机：App 首页可看余额。\n\n"
            "## 报修\n\n"
            "- App →「服务」→「宽带报修」，或拨打 10000 按 2。\n"
            "- 报修后会收到工单短信，师傅上门前会电话联系。\n"
            "- 网速长期达不到签约速率的 80%，可申请免费检测。",
            ("家里宽带上不了网", "宽带断网了怎么办", "网速太慢了，看个视频一直卡",
             "光猫红灯一直闪", "wifi连上了但是没有网", "宽带又掉线了！！！",
             "千兆宽带只有几十兆正常吗", "宽带坏了怎么报修", "路由器重启了还是不行")),
        "zh-TW": Text(
            "寬頻斷線或網速很慢怎麼辦",
            "先把數據機（光貓）和路由器斷電 1 分鐘再開機，大多數斷線和網速慢都能恢復；如果"
            "數據機的 LOS 燈亮紅燈，是線路故障，請直接報修，技師一般 24 小時內到府。\n\n"
            "## 自己先檢查\n\n"
            "1. 看數據機指示燈：PON 燈恆亮、LOS 燈不亮為正常；LOS 紅燈閃爍表示光纖中斷。\n"
            "2. 數據機、路由器斷電 1 分鐘後重新開機，等 3 分鐘再試。\n"
            "3. 用網路線直接接數據機測速（App →「寬頻測速」），排除 Wi-Fi 訊號問題。\n"
            "4. 確認寬頻沒有因欠費停用：App 首頁可看餘額。\n\n"
            "## 報修\n\n"
            "- App →「服務」→「寬頻報修」，或撥 10000 按 2。\n"
            "- 報修後會收到工單簡訊，技師到府前會先電話聯絡。\n"
            "- 網速長期達不到簽約速率的 80%，可申請免費檢測。",
            ("家裡寬頻不能上網", "寬頻斷線了怎麼辦", "網路超慢，看影片一直lag",
             "數據機紅燈一直閃", "wifi有連到可是沒有網路", "寬頻又斷了啦",
             "寬頻 500M 測速只有50正常嗎", "寬頻壞掉要怎麼報修")),
        "en": Text(
            "Broadband down or slow",
            "Switch the fibre modem and the router off for one minute and on again: that "
            "fixes most outages and slow connections. If the modem's LOS light is red, the "
            "line is cut — report a fault and an engineer visits, usually within 24 hours.\n\n"
            "## Check first\n\n"
            "1. Modem lights: PON steady and LOS off is normal; a red, blinking LOS means the "
            "fibre is broken.\n"
            "2. Power the modem and router off for a minute, then wait 3 minutes.\n"
            "3. Test the speed with a cable plugged into the modem (app → *Speed test*) to "
            "rule out Wi-Fi.\n"
            "4. Make sure the service is not suspended for an unpaid bill.\n\n"
            "## Report a fault\n\n"
            "- App → *Services* → *Broadband fault*, or call 10000 and press 2.\n"
            "- You get a text with the ticket number; the engineer calls before the visit.\n"
            "- If the speed stays below 80% of your plan, ask for a free line check.",
            ("my broadband is down", "internet not working at home", "wifi connected but no "
             "internet", "why is my internet so slow", "the modem light is red",
             "home internet keeps dropping", "how do i report a broadband fault")),
    })

WIFI = ArticleSpec(
    "wifi-password", "li_na", "千兆宽带", ("宽带", "Wi-Fi", "路由器"), 180, {
        "zh-CN": Text(
            "怎么查看或修改 Wi-Fi 密码",
            "Wi-Fi 名称和初始密码印在光猫背面的标签上；改密码请在掌上营业厅 App →「我的宽带」"
            "→「Wi-Fi 管理」里修改，改完所有设备要用新密码重新连接。\n\n"
            "## 在 App 里修改\n\n"
            "1. 打开掌上营业厅 App，进入「我的宽带」→「Wi-Fi 管理」。\n"
            "2. 选择 2.4G 或 5G 网络，输入新密码（8–63 位，建议字母加数字）。\n"
            "3. 保存后约 1 分钟生效，手机上「忘记网络」再用新密码连接。\n\n"
            "## 在电脑上修改\n\n"
            "- 浏览器打开 192.168.1.1，用光猫背面的管理账号登录，在「WLAN 配置」里修改。\n"
            "- 忘记管理密码：按住光猫 Reset 孔 10 秒恢复出厂设置（会断网几分钟）。",
            ("wifi密码忘了怎么办", "怎么改wifi密码", "家里无线网密码在哪看",
             "想把wifi密码改一下 被邻居蹭网了", "路由器密码怎么修改", "wifi 名字可以改吗",
             "光猫背面的密码连不上")),
        "zh-TW": Text(
            "如何查看或修改 Wi-Fi 密碼",
            "Wi-Fi 名稱和預設密碼印在數據機背面的標籤上；要改密碼請到 App →「我的寬頻」→"
            "「Wi-Fi 管理」修改，改完所有裝置都要用新密碼重新連線。\n\n"
            "## 在 App 修改\n\n"
            "1. 打開 App，進入「我的寬頻」→「Wi-Fi 管理」。\n"
            "2. 選擇 2.4G 或 5G 網路，輸入新密碼（8–63 碼，建議英文加數字）。\n"
            "3. 儲存後約 1 分鐘生效，手機上「忘記此網路」再用新密碼連線。\n\n"
            "## 用電腦修改\n\n"
            "- 瀏覽器打開 192.168.1.1，用數據機背面的管理帳號登入，在「WLAN 設定」修改。\n"
            "- 忘記管理密碼：按住數據機 Reset 孔 10 秒恢復原廠設定（會斷線幾分鐘）。",
            ("wifi密碼忘記了", "怎麼改wifi密碼", "家裡無線網路密碼去哪裡看",
             "wifi被鄰居偷用想換密碼", "路由器密碼要怎麼改", "wifi 名稱可以改嗎")),
        "en": Text(
            "Find or change your Wi-Fi password",
            "The Wi-Fi name and its first password are printed on the label under the modem; "
            "change the password in the app under *My broadband* → *Wi-Fi*, then reconnect "
            "every device with the new one.\n\n"
            "## In the app\n\n"
            "1. Open the app, go to *My broadband* → *Wi-Fi*.\n"
            "2. Pick the 2.4G or 5G network and type a new password (8–63 characters).\n"
            "3. Save; it takes about a minute. Forget the network on your phone and join "
            "again.\n\n"
            "## From a computer\n\n"
            "- Open 192.168.1.1 and sign in with the admin account on the modem's label.\n"
            "- Admin password forgotten: hold the modem's reset button for 10 seconds.",
            ("forgot my wifi password", "how do I change the wifi password", "where is the "
             "wifi password", "neighbours are using my wifi, change password",
             "change wifi name", "wifi pasword not working")),
    })

INVOICE = ArticleSpec(
    "invoice", "zhao_min", "账单与发票", ("发票", "账单", "报销"), 120, {
        "zh-CN": Text(
            "如何开具电子发票和增值税专用发票",
            "个人和企业都可以在掌上营业厅 App →「账单」→「发票」自助开具电子普通发票，"
            "开好后发到邮箱；企业需要增值税专用发票（专票）的，先提交开票资料审核，审核通过后"
            "按月开具。\n\n"
            "## 电子普通发票\n\n"
            "1. App →「账单」→「发票」→「开具发票」。\n"
            "2. 选择月份（可开近 12 个月），抬头选个人或单位，单位须填税号。\n"
            "3. 填写接收邮箱，一般 10 分钟内收到 PDF 和 OFD 文件。\n\n"
            "## 增值税专用发票\n\n"
            "- 需提供：营业执照、一般纳税人证明、开户行及账号、注册地址电话。\n"
            "- 资料在「政企服务」→「发票资料」上传，审核 1–3 个工作日。\n"
            "- 专票开具后不能改抬头；开错请在当月申请红冲。",
            ("怎么开电子发票", "发票怎么开 公司报销要用", "能开增值税专票吗",
             "开发票要税号吗", "上个月的话费发票在哪下载", "专票资料怎么提交",
             "发票抬头开错了能改吗", "电子发票没收到邮件")),
        "zh-TW": Text(
            "如何開立電子發票和增值稅專用發票",
            "個人和企業都可以在 App →「帳單」→「發票」自行開立電子普通發票，開好後寄到電子"
            "信箱；企業需要增值稅專用發票（專票）的，先送出開票資料審核，通過後按月開立。\n\n"
            "## 電子普通發票\n\n"
            "1. App →「帳單」→「發票」→「開立發票」。\n"
            "2. 選擇月份（可開近 12 個月），抬頭選個人或公司，公司須填統一編號／稅號。\n"
            "3. 填寫收件信箱，一般 10 分鐘內收到 PDF 和 OFD 檔。\n\n"
            "## 增值稅專用發票\n\n"
            "- 需提供：營業執照、一般納稅人證明、開戶銀行及帳號、登記地址電話。\n"
            "- 資料在「政企服務」→「發票資料」上傳，審核 1–3 個工作天。\n"
            "- 專票開立後不能改抬頭；開錯請在當月申請作廢重開。",
            ("電子發票怎麼開", "公司報帳要發票", "可以開增值稅專票嗎", "發票要打統編嗎",
             "上個月的電話費發票去哪下載", "電子發票沒收到信")),
    })

ROAMING = ArticleSpec(
    "roaming", "lin_yijun", "国际漫游包", ("漫游", "出境"), -5, {
        "zh-CN": Text(
            "出国前如何开通国际漫游",
            "出发前在掌上营业厅 App →「办理」→「国际及港澳台漫游」开通漫游，并按目的地订一个"
            "漫游流量包（例如日本 7 天 5GB 68 元），比按量计费便宜得多；开通即时生效。\n\n"
            "## 开通步骤\n\n"
            "1. App →「办理」→「国际及港澳台漫游」→ 开通漫游功能（免费）。\n"
            "2. 选择目的地和天数，订购流量包；包从落地首次上网开始计时。\n"
            "3. 到达后打开手机「数据漫游」开关。\n\n"
            "## 注意\n\n"
            "- 未订包时按当地标准资费计费，每日封顶 25 元。\n"
            "- 在国外接听电话也收费，可设置呼叫转移到语音信箱。\n"
            "- 欠费会停止漫游，出发前请保证余额充足或开通自动缴费。",
            ("去日本要开漫游吗", "出国流量包怎么买", "国际漫游怎么开通", "香港能用我的手机号吗",
             "下周去东京 手机咋办", "漫游费太贵了有没有套餐", "到国外没信号是不是没开漫游",
             "去泰国玩流量怎么办")),
        "zh-TW": Text(
            "出國前如何開通國際漫遊",
            "出發前在 App →「申辦」→「國際及港澳漫遊」開通漫遊，並依目的地購買漫遊上網包"
            "（例如日本 7 天 5GB 68 元），比按量計費便宜很多；開通立即生效。\n\n"
            "## 開通步驟\n\n"
            "1. App →「申辦」→「國際及港澳漫遊」→ 開通漫遊功能（免費）。\n"
            "2. 選擇目的地和天數，購買上網包；從落地第一次上網開始計時。\n"
            "3. 到達後打開手機的「數據漫遊」開關。\n\n"
            "## 注意\n\n"
            "- 沒買上網包時依當地標準費率計費，每日上限 25 元。\n"
            "- 在國外接電話也要收費，可設定轉接到語音信箱。\n"
            "- 欠費會停止漫遊，出發前請確認餘額足夠或開通自動扣繳。",
            ("去日本要開漫遊嗎", "出國上網包怎麼買", "國際漫遊要怎麼開", "去大陸可以用我的門號嗎",
             "下禮拜去東京 手機要怎麼辦", "漫遊費好貴有沒有方案")),
        "en": Text(
            "Turn on international roaming before a trip",
            "Before you leave, open the app → *Add-ons* → *International roaming*, turn "
            "roaming on and buy a data pass for your destination (e.g. Japan, 7 days, 5 GB for "
            "68 CNY) — far cheaper than pay-as-you-go. It works at once.\n\n"
            "## Steps\n\n"
            "1. App → *Add-ons* → *International roaming* → turn roaming on (free).\n"
            "2. Pick the destination and days and buy the pass; it starts with your first "
            "use abroad.\n"
            "3. When you land, switch on *Data roaming* on the phone.\n\n"
            "## Good to know\n\n"
            "- Without a pass, local rates apply, capped at 25 CNY a day.\n"
            "- Answering calls abroad is charged; divert calls to voicemail if you like.\n"
            "- An unpaid balance stops roaming: top up or turn on autopay before you go.",
            ("Can I add international roaming before my trip to Tokyo?", "how to activate "
             "roaming", "travel data pass for japan", "will my phone work in Hong Kong",
             "roaming charges are too expensive", "no signal abroad")),
    })

CHANGE_PLAN = ArticleSpec(
    "change-plan", "zhang_wei", "5G 套餐", ("套餐", "资费"), 150, {
        "zh-CN": Text(
            "如何更换套餐",
            "在掌上营业厅 App →「办理」→「套餐变更」可以随时换套餐：升档当月生效，降档次月 1 "
            "号生效；合约期内的套餐只能升档，降档需等合约到期。\n\n"
            "## 步骤\n\n"
            "1. App →「办理」→「套餐变更」，列表会显示你能换的套餐和差价。\n"
            "2. 选好套餐，确认生效时间，输入短信验证码提交。\n"
            "3. 办理成功会收到短信；当月按天折算，不会重复扣月租。\n\n"
            "## 常见问题\n\n"
            "- 宽带融合套餐换档会同时影响宽带速率。\n"
            "- 副卡、亲情号跟随主套餐，换套餐前请确认副卡数量是否超出新套餐上限。",
            ("我想换个便宜点的套餐", "套餐怎么改", "199的套餐能降到129吗", "流量不够用想升级套餐",
             "换套餐什么时候生效", "合约期内可以降套餐吗", "有没有流量多一点的5G套餐")),
        "zh-TW": Text(
            "如何變更資費方案",
            "在 App →「申辦」→「方案變更」可以隨時換資費方案：升級當月生效，降級下個月 1 號"
            "生效；合約期間的方案只能升級，降級要等合約到期。\n\n"
            "## 步驟\n\n"
            "1. App →「申辦」→「方案變更」，列表會顯示你能換的方案和差價。\n"
            "2. 選好方案，確認生效時間，輸入簡訊驗證碼送出。\n"
            "3. 辦好會收到簡訊；當月按天數比例計算，不會重複收月租費。\n\n"
            "## 常見問題\n\n"
            "- 寬頻合併方案換檔會一起改變寬頻速率。\n"
            "- 副卡跟著主方案，換方案前請確認副卡數量沒有超過新方案的上限。",
            ("我想換便宜一點的方案", "資費方案要怎麼改", "199的方案可以降到129嗎",
             "網路流量不夠想升級", "換方案什麼時候生效", "綁約中可以降資費嗎")),
        "en": Text(
            "Change your plan",
            "Change plan any time in the app → *Add-ons* → *Change plan*: an upgrade starts "
            "this month, a downgrade on the 1st of next month. During a contract you can only "
            "upgrade.\n\n"
            "## Steps\n\n"
            "1. App → *Add-ons* → *Change plan* lists the plans you can move to and the "
            "price difference.\n"
            "2. Pick one, confirm when it starts, enter the code sent by text.\n"
            "3. You get a confirmation text; this month is charged pro rata.\n\n"
            "## Good to know\n\n"
            "- For broadband bundles, the broadband speed changes with the plan.\n"
            "- Extra SIMs follow the main plan: check the new plan allows as many.",
            ("I want a cheaper plan", "how do I change my plan", "upgrade to more data",
             "when does a plan change take effect", "can I downgrade during my contract",
             "switch plan to unlimited 5g")),
    })

PAYMENT = ArticleSpec(
    "payment-failed", "zhao_min", "账单与发票", ("缴费", "充值", "支付"), 120, {
        "zh-CN": Text(
            "缴费或充值失败怎么办（余额不足、银行卡被拒）",
            "缴费失败最常见的原因是银行卡余额不足、卡片被银行拒付或单日限额，钱不会扣走；换一张"
            "卡或改用微信/支付宝在 App →「充值缴费」重新支付即可，到账后服务自动恢复。\n\n"
            "## 看失败原因\n\n"
            "- **余额不足**：充值后重试，或换一张卡。\n"
            "- **银行卡被拒 / 超出限额**：联系发卡银行，或改用微信支付、支付宝。\n"
            "- **自动扣款失败**：在「充值缴费」→「自动缴费」重新绑定有效的银行卡。\n\n"
            "## 扣了钱却显示失败\n\n"
            "1. 等 30 分钟，银行通常会自动退回或补到账。\n"
            "2. 仍未到账：App →「充值缴费」→「缴费记录」找到该笔，点「申请核查」。\n"
            "3. 核查 1–3 个工作日，结果短信通知。",
            ("交话费失败了", "充值一直失败 余额不足", "银行卡被拒了怎么交费",
             "自动扣款失败是什么原因",
             "钱扣了但是话费没到账", "支付失败 提示卡片被拒绝", "怎么换一张卡缴费",
             "充值不成功咋回事")),
        "zh-TW": Text(
            "繳費或儲值失敗怎麼辦（餘額不足、信用卡被拒）",
            "繳費失敗最常見的原因是帳戶餘額不足、信用卡被銀行拒絕或超過單日額度，錢不會被扣走；"
            "換一張卡或改用其他支付方式，在 App →「儲值繳費」重新付款即可，入帳後服務自動恢復。\n\n"
            "## 看失敗原因\n\n"
            "- **餘額不足**：儲值後再試，或換一張卡。\n"
            "- **信用卡被拒／超過額度**：聯絡發卡銀行，或改用其他支付方式。\n"
            "- **自動扣繳失敗**：在「儲值繳費」→「自動扣繳」重新綁定有效的卡片。\n\n"
            "## 被扣款卻顯示失敗\n\n"
            "1. 等 30 分鐘，銀行通常會自動退回或補入帳。\n"
            "2. 仍未入帳：App →「儲值繳費」→「繳費紀錄」找到該筆，按「申請查核」。\n"
            "3. 查核 1–3 個工作天，結果以簡訊通知。",
            ("繳費失敗", "儲值一直失敗 餘額不足", "信用卡被拒絕要怎麼繳費", "自動扣繳失敗是為什麼",
             "錢被扣了可是沒有入帳", "付款失敗 卡片被拒")),
        "en": Text(
            "Payment or top-up failed (insufficient balance, card declined)",
            "A failed payment is usually an insufficient balance, a card the bank declined "
            "or a daily limit — no money is taken. Pay again with another card or another "
            "method in the app → *Top up & pay*; the service comes back as soon as it is "
            "paid.\n\n"
            "## By reason\n\n"
            "- **Insufficient balance**: add funds and retry, or use another card.\n"
            "- **Card declined / over the limit**: call your bank, or pay another way.\n"
            "- **Autopay failed**: in *Top up & pay* → *Autopay*, link a valid card again.\n\n"
            "## Charged but shown as failed\n\n"
            "1. Wait 30 minutes: the bank usually refunds or completes it.\n"
            "2. Still missing: *Top up & pay* → *History*, pick the payment, *Ask us to "
            "check*.\n"
            "3. We answer by text within 1–3 working days.",
            ("my payment failed", "top up failed insufficient balance", "card declined when "
             "paying my bill", "autopay didn't go through", "money taken but bill not paid",
             "how do I pay with another card")),
    })

SIM = ArticleSpec(
    "sim-replace", "li_na", "5G 套餐", ("SIM卡", "补卡"), 200, {
        "zh-CN": Text(
            "补办或更换 SIM 卡",
            "手机卡丢了请先在 App 或拨打 10000 挂失停机，再带本人身份证到任意营业厅补卡，"
            "号码和余额都不变，当场可用；卡坏了或要换 5G 卡、eSIM 也在营业厅办理。\n\n"
            "## 步骤\n\n"
            "1. 挂失：App →「服务」→「挂失/解挂」，或拨打 10000。\n"
            "2. 本人带有效身份证件到营业厅，补卡费 10 元（5G 换卡免费）。\n"
            "3. 新卡插入后重启手机，旧卡自动失效。\n\n"
            "## 不能本人到场\n\n"
            "- 代办需机主身份证原件、代办人身份证和机主签字的授权书。\n"
            "- 港澳台及外籍机主请携带办理时登记的证件（回乡证、台胞证或护照）。",
            ("手机卡丢了怎么办", "补卡要带什么", "sim卡坏了 读不出来", "想换成5G卡",
             "手机被偷了卡要挂失", "能不能办eSIM", "别人可以帮我去补卡吗")),
        "zh-TW": Text(
            "補辦或更換 SIM 卡",
            "SIM 卡遺失請先在 App 或撥 10000 掛失停話，再帶本人證件到任一門市補卡，門號和"
            "餘額都不變，當場就能用；卡片損壞或要換 5G 卡、eSIM 也在門市辦理。\n\n"
            "## 步驟\n\n"
            "1. 掛失：App →「服務」→「掛失／復話」，或撥 10000。\n"
            "2. 本人帶有效證件到門市，補卡費 10 元（換 5G 卡免費）。\n"
            "3. 新卡插入後重新開機，舊卡自動失效。\n\n"
            "## 無法本人到場\n\n"
            "- 代辦需要機主證件正本、代辦人證件和機主簽名的委託書。\n"
            "- 港澳台及外籍機主請帶申辦時登記的證件（台胞證、回鄉證或護照）。",
            ("手機卡掉了怎麼辦", "補卡要帶什麼", "SIM卡壞了讀不到", "想換5G卡", "手機被偷要掛失",
             "可以辦eSIM嗎")),
        "en": Text(
            "Replace a lost or broken SIM card",
            "Lost your SIM? Suspend it first in the app or by calling 10000, then bring your "
            "ID to any store for a new card: same number, same balance, working at once. "
            "Broken cards, 5G cards and eSIM are also done in store.\n\n"
            "## Steps\n\n"
            "1. Suspend: app → *Services* → *Report lost*, or call 10000.\n"
            "2. Bring the ID you registered with; a new card costs 10 CNY (5G upgrade free).\n"
            "3. Insert it and restart the phone; the old card stops working.\n\n"
            "## Someone else going for you\n\n"
            "- They need your original ID, their own ID and a signed authorisation.",
            ("I lost my sim card", "phone stolen block my sim", "sim card not detected",
             "how to get an esim", "replace sim with a 5g sim", "what do I need to bring "
             "for a new sim")),
    })

PORTING = ArticleSpec(
    "number-porting", "zhang_wei", "5G 套餐", ("携号转网", "号码"), 160, {
        "zh-CN": Text(
            "携号转网怎么办理",
            "携号转网就是换运营商不换号码：先发短信「CXXZ#姓名#证件号码」到 10086/10010/10000 查询"
            "能否转出，再发「SQXZ#姓名#证件号码」获取授权码，拿授权码到新运营商营业厅办理即可。\n\n"
            "## 转出条件\n\n"
            "- 号码在网满 120 天，无欠费，没有在合约期内（或已解约）。\n"
            "- 号码不在挂失、停机状态。\n\n"
            "## 步骤\n\n"
            "1. 短信查询资格，按提示处理未满足的条件。\n"
            "2. 获取授权码（有效期 4 天）。\n"
            "3. 到新运营商办理，新卡激活后原卡失效，原号余额可申请退还。",
            ("携号转网怎么弄", "我想转到别的运营商但是号码不变", "授权码怎么获取",
             "为什么不能携号转网",
             "转网要多久", "携转了原来的话费能退吗", "带号转网需要什么条件")),
        "zh-TW": Text(
            "攜碼（攜號轉網）怎麼辦理",
            "攜號轉網就是換電信業者不換門號：先傳簡訊「CXXZ#姓名#證件號碼」到 10000 查詢能否"
            "轉出，再傳「SQXZ#姓名#證件號碼」取得授權碼，帶著授權碼到新業者門市辦理即可。\n\n"
            "## 轉出條件\n\n"
            "- 門號使用滿 120 天，沒有欠費，不在合約期間（或已解約）。\n"
            "- 門號不是掛失、停話狀態。\n\n"
            "## 步驟\n\n"
            "1. 簡訊查詢資格，依提示處理未符合的條件。\n"
            "2. 取得授權碼（4 天內有效）。\n"
            "3. 到新業者辦理，新卡開通後原卡失效，原門號餘額可申請退還。",
            ("攜碼要怎麼辦", "想換電信但不換號碼", "授權碼怎麼拿", "為什麼不能攜號轉網",
             "攜碼要多久", "攜碼後原本的餘額可以退嗎")),
        "en": Text(
            "Keep your number when you switch operator (number porting)",
            "To move to another operator and keep your number, text CXXZ#name#ID-number to "
            "10000 to check you can leave, then SQXZ#name#ID-number for an authorisation "
            "code, and take the code to the new operator.\n\n"
            "## Conditions\n\n"
            "- The number is at least 120 days old, nothing is owed and no contract runs.\n"
            "- It is not suspended or reported lost.\n\n"
            "## Steps\n\n"
            "1. Text the check and settle anything it lists.\n"
            "2. Get the code (valid 4 days).\n"
            "3. Sign up with the new operator; the old SIM stops when the new one starts and "
            "you can ask for the remaining balance back.",
            ("how do I port my number to another carrier", "keep my number and switch "
             "provider", "get the porting code", "why can't I port out", "how long does "
             "number transfer take", "switching to another network, what do I need")),
    })

CANCEL = ArticleSpec(
    "contract-cancel", "zhao_min", "5G 套餐", ("合约", "销户", "退订"), 100, {
        "zh-CN": Text(
            "如何解除合约或销户",
            "合约到期后可以在 App 或营业厅直接销户；合约期内提前解约需按剩余月数支付违约金"
            "（一般为剩余月份最低消费的 30%），并退还或结清购机补贴。销户前请先结清话费。\n\n"
            "## 办理\n\n"
            "1. App →「我的」→「合约信息」查看到期日和违约金试算。\n"
            "2. 结清当月话费和欠费。\n"
            "3. 本人带身份证到营业厅办理销户；宽带销户需归还光猫（或按价赔付）。\n\n"
            "## 说明\n\n"
            "- 销户后号码冻结 90 天再重新放号，余额可退回原支付账户。\n"
            "- 只想少用流量，可以改小套餐，不必解约。",
            ("合约还没到期能退吗", "怎么注销手机号", "宽带不想用了怎么退", "提前解约要赔多少钱",
             "我要销户", "违约金怎么算", "合约机能解约吗")),
        "zh-TW": Text(
            "如何解約或退租",
            "合約到期後可以在 App 或門市直接退租；合約期間提前解約要依剩餘月數付違約金"
            "（一般為剩餘月份最低消費的 30%），並償還手機補貼款。退租前請先繳清電話費。\n\n"
            "## 辦理\n\n"
            "1. App →「我的」→「合約資訊」查看到期日和違約金試算。\n"
            "2. 繳清當月帳單和欠費。\n"
            "3. 本人帶證件到門市退租；寬頻退租要歸還數據機（或依價賠償）。\n\n"
            "## 說明\n\n"
            "- 退租後門號凍結 90 天才會重新釋出，餘額可退回原付款帳戶。\n"
            "- 只是想少用一點，可以改小方案，不一定要解約。",
            ("合約還沒到可以解約嗎", "門號要怎麼退租", "寬頻不用了要怎麼退", "提前解約要賠多少",
             "我要停掉這個門號", "違約金怎麼算")),
    })

COVERAGE = ArticleSpec(
    "5g-coverage", "chen_jing", "5G 套餐", ("5G", "信号"), -20, {
        "zh-CN": Text(
            "为什么没有 5G 信号",
            "5G 需要三样都满足：5G 手机、5G 套餐（或开通 5G 功能）和所在位置有 5G 覆盖；"
            "室内深处、地下车库和郊区常常只有 4G，这时会自动切到 4G，不影响通话和上网。\n\n"
            "## 检查\n\n"
            "1. 手机设置 →「移动网络」→ 打开「启用 5G」。\n"
            "2. App →「我的套餐」确认已包含 5G 功能。\n"
            "3. App →「网络覆盖查询」看所在地址是否已覆盖 5G。\n\n"
            "## 信号差的反馈\n\n"
            "- 在 App →「服务」→「信号问题反馈」提交地址和时间段，网络部门会安排测试与优化，"
            "一般 15 个工作日内回复。",
            ("为什么没有5g信号", "我家附近有5G覆盖吗", "手机一直显示4g", "办了5G套餐还是4G",
             "地下室信号好差", "5g信号怎么这么弱", "小区没信号可以反映吗")),
        "zh-TW": Text(
            "為什麼收不到 5G 訊號",
            "5G 要同時符合三個條件：5G 手機、5G 方案（或開通 5G 功能），以及所在位置有 5G "
            "涵蓋；室內深處、地下停車場和郊區常只有 4G，這時會自動切換到 4G，不影響通話和上網。\n\n"
            "## 檢查\n\n"
            "1. 手機設定 →「行動網路」→ 打開「啟用 5G」。\n"
            "2. App →「我的方案」確認有包含 5G 功能。\n"
            "3. App →「訊號涵蓋查詢」看所在地址有沒有 5G。\n\n"
            "## 回報訊號不好\n\n"
            "- 在 App →「服務」→「訊號問題回報」填寫地址和時段，網路部門會安排測試與優化，"
            "一般 15 個工作天內回覆。",
            ("為什麼沒有5G訊號", "我家附近有5G嗎", "手機一直顯示4G", "辦了5G方案還是4G",
             "地下室訊號很差", "社區收訊不好可以反映嗎")),
    })

PASSWORD = ArticleSpec(
    "password-reset", "li_na", "掌上营业厅", ("账户", "密码", "App"), 200, {
        "zh-CN": Text(
            "忘记服务密码或 App 登录密码怎么重置",
            "App 登录可以直接用手机号加短信验证码，不需要密码；忘了 6 位服务密码，在 App →"
            "「我的」→「安全中心」→「重置服务密码」，验证身份证号和短信验证码后即可设新密码。\n\n"
            "## 重置服务密码\n\n"
            "1. App →「我的」→「安全中心」→「重置服务密码」。\n"
            "2. 输入机主身份证号后 6 位和短信验证码。\n"
            "3. 设置新的 6 位数字密码（不能是连续或重复数字）。\n\n"
            "## 收不到验证码\n\n"
            "- 检查手机是否停机、是否拦截了 10000 开头的短信。\n"
            "- 号码已停机或不在身边：本人带身份证到营业厅重置。\n"
            "- 连续输错 5 次会锁定 24 小时。",
            ("忘记服务密码了", "app登不上去 密码忘了", "怎么重置密码", "收不到验证码",
             "账号被锁了怎么办", "服务密码是什么", "密码输错太多次锁住了")),
        "zh-TW": Text(
            "忘記服務密碼或 App 登入密碼怎麼重設",
            "App 可以直接用手機號碼加簡訊驗證碼登入，不需要密碼；忘了 6 位數服務密碼，到 App →"
            "「我的」→「安全中心」→「重設服務密碼」，驗證證件號碼和簡訊驗證碼後就能設新密碼。\n\n"
            "## 重設服務密碼\n\n"
            "1. App →「我的」→「安全中心」→「重設服務密碼」。\n"
            "2. 輸入機主證件號碼後 6 碼和簡訊驗證碼。\n"
            "3. 設定新的 6 位數字密碼（不能是連續或重複數字）。\n\n"
            "## 收不到驗證碼\n\n"
            "- 確認門號沒有停話、沒有封鎖 10000 開頭的簡訊。\n"
            "- 門號已停話或不在身邊：本人帶證件到門市重設。\n"
            "- 連續輸錯 5 次會鎖定 24 小時。",
            ("忘記服務密碼", "App登不進去 密碼忘了", "密碼要怎麼重設", "收不到驗證碼簡訊",
             "帳號被鎖住了", "密碼打錯太多次")),
        "en": Text(
            "Reset your service PIN or app password",
            "You can sign in to the app with your number and a code sent by text — no "
            "password needed. Forgot the 6-digit service PIN? App → *Me* → *Security* → "
            "*Reset PIN*, confirm your ID number and the text code, and choose a new one.\n\n"
            "## Reset the PIN\n\n"
            "1. App → *Me* → *Security* → *Reset PIN*.\n"
            "2. Enter the last 6 characters of your ID and the code.\n"
            "3. Choose 6 digits (no runs like 123456 or repeats like 111111).\n\n"
            "## No code arriving\n\n"
            "- Check the line is not suspended and texts from 10000 are not blocked.\n"
            "- Five wrong tries lock the account for 24 hours.",
            ("forgot my password", "can't log in to the app", "reset my pin", "I'm not "
             "getting the verification code", "account locked", "how to change my password")),
    })

ENTERPRISE = ArticleSpec(
    "enterprise-admin", "zhou_jianguo", "政企服务", ("政企", "企业账户", "成员"), 180, {
        "zh-CN": Text(
            "企业账户管理员如何添加或删除成员",
            "企业账户的管理员登录政企服务门户 →「成员管理」即可添加成员、分配号码和套餐、设置"
            "消费额度；新成员会收到短信邀请，确认后生效。管理员变更需决策人签字的授权书。\n\n"
            "## 添加成员\n\n"
            "1. 登录政企服务门户（或 App 切换到企业身份）→「成员管理」→「添加成员」。\n"
            "2. 填写姓名、手机号，选择部门和套餐；批量添加可下载 Excel 模板导入。\n"
            "3. 成员短信确认后，费用按企业统一付费或个人付费结算。\n\n"
            "## 删除与权限\n\n"
            "- 删除成员后号码转为个人账户，不会停机。\n"
            "- 新增或更换管理员：上传决策人签字的授权书，客户经理 1 个工作日内审核。\n"
            "- 找不到客户经理：拨打 10000 转政企专线。",
            ("企业账户怎么加员工", "公司新来的人怎么加到集团账户", "管理员权限怎么给别人",
             "批量添加成员有模板吗", "员工离职了号码怎么从企业账户移除", "政企门户登录不了",
             "想换个管理员")),
        "zh-TW": Text(
            "企業帳戶管理員如何新增或刪除成員",
            "企業帳戶的管理員登入企業服務入口 →「成員管理」就能新增成員、分配門號和方案、設定"
            "消費額度；新成員會收到簡訊邀請，確認後生效。變更管理員需要決策人簽名的授權書。\n\n"
            "## 新增成員\n\n"
            "1. 登入企業服務入口（或 App 切換到企業身分）→「成員管理」→「新增成員」。\n"
            "2. 填寫姓名、手機號碼，選擇部門和方案；大量新增可下載 Excel 範本匯入。\n"
            "3. 成員簡訊確認後，費用依公司統一付費或個人付費結算。\n\n"
            "## 刪除與權限\n\n"
            "- 刪除成員後門號轉為個人帳戶，不會停話。\n"
            "- 新增或更換管理員：上傳決策人簽名的授權書，客戶經理 1 個工作天內審核。\n"
            "- 找不到客戶經理：撥 10000 轉企業專線。",
            ("企業帳戶要怎麼加員工", "公司新同事怎麼加進集團帳戶", "管理員權限要怎麼給別人",
             "大量新增成員有範本嗎", "員工離職門號要怎麼移出公司帳戶", "想換管理員")),
        "en": Text(
            "Enterprise accounts: add or remove members",
            "Your company's administrator adds people in the business portal → *Members*: "
            "a number, a plan and a spending limit each; the new member confirms by text. A "
            "new administrator needs an authorisation signed by the decision maker.\n\n"
            "## Add members\n\n"
            "1. Business portal (or the app, switched to your company) → *Members* → *Add*.\n"
            "2. Name, mobile number, department and plan; for many people, import the Excel "
            "template.\n"
            "3. Once they confirm, charges go to the company or to the member as set.\n\n"
            "## Remove members, admin rights\n\n"
            "- A removed member keeps the number on a personal account.\n"
            "- New administrator: upload the signed authorisation; your account manager "
            "approves it within one working day.",
            ("how do I add an employee to our company account", "add members to enterprise "
             "account", "make someone else admin of our account", "remove a staff member who "
             "left", "bulk add users template",
             "how do we give a new hire a company phone line")),
    })

BILL_DISPUTE = ArticleSpec(
    "bill-dispute", "zhao_min", "账单与发票", ("账单", "扣费", "退费"), 60, {
        "zh-CN": Text(
            "账单金额不对或被多扣费怎么办",
            "先在 App →「账单」→「账单详情」里查看每一笔费用，常见原因是超出套餐的流量、"
            "订阅的增值业务或漫游；确认是错扣的，在账单详情点「费用异议」提交，核实后 3 个工作日"
            "内原路退回。\n\n"
            "## 自查\n\n"
            "1. App →「账单」→ 选择月份 →「账单详情」，按类别查看费用。\n"
            "2. 「已订业务」里查看是否有不认识的增值业务，可直接退订。\n"
            "3. 流量超出：查看「流量使用明细」里的时间和用量。\n\n"
            "## 提交异议\n\n"
            "- 在账单详情点「费用异议」，写明哪一笔和原因，或拨打 10000。\n"
            "- 不知情订购的增值业务可全额退费。\n"
            "- 对处理结果不满意可要求升级处理。",
            ("账单不对 多扣了30块", "这个月话费怎么这么多", "莫名其妙扣了钱", "乱扣费怎么退",
             "我没订过这个业务为什么收费", "账单上有一笔看不懂", "话费被多收了")),
        "zh-TW": Text(
            "帳單金額不對或被多扣費怎麼辦",
            "先在 App →「帳單」→「帳單明細」查看每一筆費用，常見原因是超出方案的流量、訂閱的"
            "加值服務或漫遊；確認是誤收的，在帳單明細按「費用異議」送出，核實後 3 個工作天內"
            "原路退回。\n\n"
            "## 自己檢查\n\n"
            "1. App →「帳單」→ 選擇月份 →「帳單明細」，依類別查看費用。\n"
            "2. 「已訂服務」裡查看有沒有不認識的加值服務，可以直接取消。\n"
            "3. 流量超出：查看「上網用量明細」裡的時間和用量。\n\n"
            "## 送出異議\n\n"
            "- 在帳單明細按「費用異議」，寫明哪一筆和原因，或撥 10000。\n"
            "- 不知情被訂閱的加值服務可全額退費。\n"
            "- 對處理結果不滿意可要求升級處理。",
            ("帳單金額不對，多扣了 30 元", "這個月電話費怎麼這麼多", "莫名其妙被扣錢",
             "亂扣費要怎麼退", "我沒訂過這個服務為什麼收費", "帳單上有一筆看不懂")),
        "en": Text(
            "Your bill looks wrong or you were overcharged",
            "Open the app → *Bills* → *Details* to see every charge: extra data, an add-on "
            "service or roaming are the usual reasons. If a charge is wrong, tap *Dispute "
            "this charge*; once checked, it is refunded to the way you paid within 3 working "
            "days.\n\n"
            "## Check\n\n"
            "1. App → *Bills* → pick the month → *Details*.\n"
            "2. *My add-ons* lists paid services; cancel any you do not know.\n"
            "3. Extra data: see *Data usage* for the times and amounts.\n\n"
            "## Dispute\n\n"
            "- Tap *Dispute this charge* and say which one and why, or call 10000.\n"
            "- Add-ons you never agreed to are refunded in full.",
            ("my bill is wrong", "why is my bill so high this month", "I was overcharged",
             "charged for something I never ordered", "dispute a charge on my bill",
             "refund for wrong charge")),
    })

OVERDUE = ArticleSpec(
    "overdue-suspended", "zhao_min", "账单与发票", ("欠费", "停机", "复机"), 120, {
        "zh-CN": Text(
            "欠费停机了怎么恢复",
            "欠费停机后只要把欠费交清（App、微信、支付宝或营业厅都可以），系统会在缴费后 "
            "30 分钟内自动复机，不用再打电话；停机超过 90 天号码会被销户回收。\n\n"
            "## 复机\n\n"
            "1. App →「充值缴费」输入号码，查看欠费金额并缴清。\n"
            "2. 缴费成功后等待最多 30 分钟，重启手机。\n"
            "3. 仍未复机：拨打 10000 或在 App 点「复机申请」。\n\n"
            "## 避免停机\n\n"
            "- 开通「自动缴费」或「信用额度」，余额不足时不会立刻停机。\n"
            "- VIP 客户享有欠费后 3 天的延迟停机。",
            ("欠费停机了怎么办", "手机停机了 交了钱还是用不了", "怎么复机", "为什么突然停机了",
             "缴费后多久能恢复", "停机了还能接电话吗", "号码欠费太久会被收回吗")),
        "zh-TW": Text(
            "欠費停話了怎麼恢復",
            "欠費停話後只要把欠款繳清（App、超商或門市都可以），系統會在繳費後 30 分鐘內自動"
            "復話，不用再打電話；停話超過 90 天門號會被收回。\n\n"
            "## 復話\n\n"
            "1. App →「儲值繳費」輸入門號，查看欠費金額並繳清。\n"
            "2. 繳費成功後最多等 30 分鐘，重新開機。\n"
            "3. 還沒復話：撥 10000 或在 App 按「申請復話」。\n\n"
            "## 避免停話\n\n"
            "- 開通「自動扣繳」或「信用額度」，餘額不足時不會馬上停話。\n"
            "- VIP 客戶欠費後享有 3 天延後停話。",
            ("欠費停話了怎麼辦", "手機被停話 繳了錢還是不能用", "要怎麼復話", "為什麼突然被停話",
             "繳費後多久會恢復", "停話還可以接電話嗎")),
    })

COMPLAINT_PROCESS = ArticleSpec(
    "internal-complaint-escalation", "chen_jing", None, ("投诉", "升级", "坐席"), 90, {
        "zh-CN": Text(
            "投诉升级处理规范（坐席内部）",
            "客户明确表示要投诉、提到工信部/消协/媒体，或同一问题第二次来电，一律开投诉工单并"
            "升级到值班主管，2 小时内回电；不要承诺处理结果，只承诺回电时间。\n\n"
            "## 步骤\n\n"
            "1. 在会话里「开案例」，类型选「投诉」，写清诉求、涉及金额和客户情绪。\n"
            "2. 升级给值班主管（今日值班见排班表），截止时间 2 小时。\n"
            "3. 涉及退费：派工单给「账务」，附账单截图。\n"
            "4. 回电后在案例里记录结果，客户认可再关闭；不认可继续升级到客服经理。\n\n"
            "## 话术要点\n\n"
            "- 先致歉、复述问题，再说明下一步和回电时间。\n"
            "- 工信部申诉件当天必须联系客户。",
            ("客户说要投诉到工信部怎么处理", "投诉工单要升级给谁", "客户要求赔偿能承诺吗",
             "二次来电的投诉怎么办", "投诉多久要回电", "客户情绪很激动要挂电话怎么办")),
    }, visibility="internal")

BROADBAND_DISPATCH = ArticleSpec(
    "internal-broadband-dispatch", "chen_jing", "千兆宽带", ("宽带", "派单", "坐席"), 90, {
        "zh-CN": Text(
            "宽带故障派单与上门预约（坐席内部）",
            "客户已按自助步骤重启光猫仍不通，或 LOS 红灯，直接派「宽带装维」工单，约定上门时段；"
            "VIP 和政企客户选「加急」，4 小时内上门。\n\n"
            "## 派单前确认\n\n"
            "1. 在客户上下文里看宽带是否欠费停机（欠费先引导缴费，不派单）。\n"
            "2. 问清光猫指示灯状态、是否全屋断网、开始时间。\n"
            "3. 系统查询片区是否有批量故障：有则登记到批量故障单，告知预计恢复时间。\n\n"
            "## 派单\n\n"
            "- 案例 → 派工单 → 部门「宽带装维」，填写地址、联系电话、可上门时段。\n"
            "- 普通 24 小时、加急 4 小时；超时系统会自动升级。",
            ("宽带报修怎么派单", "光猫红灯要派给哪个部门", "VIP宽带故障可以加急吗",
             "片区批量故障怎么查", "宽带工单超时了怎么办", "客户欠费停机还能派宽带单吗")),
    }, visibility="internal")

ARTICLES: tuple[ArticleSpec, ...] = (
    BROADBAND, WIFI, INVOICE, ROAMING, CHANGE_PLAN, PAYMENT, SIM, PORTING, CANCEL,
    COVERAGE, PASSWORD, ENTERPRISE, BILL_DISPUTE, OVERDUE, COMPLAINT_PROCESS,
    BROADBAND_DISPATCH,
)
