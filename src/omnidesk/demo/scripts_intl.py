"""Conversation templates in traditional Chinese and English, and on the enterprise line."""

from __future__ import annotations

from omnidesk.demo.specs import Script

TW_GREET = "您好，我是客服{agent}，很高興為您服務。"
EN_GREET = "Hi {first}, this is {agent} from customer service."

TRADITIONAL = (
    Script("web", "zh-TW", (
        ("c", "帳單金額不對，多扣了 30 元"),
        ("a", TW_GREET + "這邊幫您查詢帳單明細，請稍候。"),
        ("a", "查到是加值服務「影音會員」月租 30 元，請問是您本人訂閱的嗎？"),
        ("c", "不是，我從來沒有訂過"),
        ("bn", "账务组：非本人訂閱，30 元已退回"),
        ("a", "已為您退訂並申請退款，30 元會在下期帳單中扣抵。"),
        ("c", "好的，謝謝"),
    )),
    Script("app", "zh-TW", (
        ("c", "家裡的寬頻 500M 最近晚上都很慢，測速只有 50M"),
        ("a", TW_GREET + "請問您是用 Wi-Fi 還是有線測速呢？"),
        ("c", "Wi-Fi，路由器是你們送的那台"),
        ("n", "線路測試正常，疑似路由器老化，已安排到府檢測"),
        ("a", "線路檢測正常，可能是路由器的問題，我們安排技術人員到府檢測，費用全免。"),
    ), status="pending"),
    Script("web", "zh-TW", (
        ("c", "請問國際漫遊去日本 5 天多少錢？"),
        ("a", TW_GREET + "日本 5 天漫遊包 78 元，每天 1GB 高速流量，可以在 App 直接訂購。"),
        ("c", "了解，謝謝"),
    ), uses=3),
    Script("app", "zh-TW", (
        ("c", "我想申請電子帳單，不要再寄紙本了"),
        ("a", TW_GREET + "已為您改為電子帳單，下期起會寄到您登記的電子郵件。"),
    ), uses=3),
    Script("email", "zh-TW", (
        ("c", "您好，我的門號合約下個月到期，想了解續約有什麼優惠方案？"),
        ("a", "您好，" + TW_GREET + "續約 24 個月可享月租 8 折，另贈 20GB 流量，"
              "詳細方案已附在信中。"),
        ("c", "請問可以保留原本的門號和 IPTV 嗎？"),
    ), subject="合約到期續約詢問", status="open", uses=3),
    Script("voice", "zh-TW", (
        ("c", "喂，你好，我的手機從早上開始就沒有訊號，打不出去也收不到簡訊。"),
        ("n", "通話小結：基地台維修中，已告知預計 18:00 前恢復，提供 Wi-Fi 通話設定"),
    ), queue="国际及港澳台", uses=3),
    Script("web", "zh-TW", (
        ("c", "App 登入一直顯示驗證碼錯誤，試了好幾次"),
        ("c", "是不是我的帳號被鎖了？"),
    ), status="open", uses=2),
)

ENGLISH = (
    Script("web", "en", (
        ("c", "Can I add international roaming before my trip to Tokyo?"),
        ("a", EN_GREET + " Sure — the Japan 7-day roaming pack is 98 CNY with 1 GB of "
              "high-speed data per day."),
        ("c", "Great, please add it starting Monday."),
        ("a", "Done. The pack is active from Monday 00:00 Beijing time. Have a good trip!"),
    )),
    Script("app", "en", (
        ("c", "My broadband has been dropping every evening since Tuesday."),
        ("a", EN_GREET + " Sorry about that. Does the connection come back by itself?"),
        ("c", "Yes, after 5-10 minutes. It's really annoying during video calls."),
        ("n", "Line test shows high attenuation at the distribution box; field engineer booked"),
        ("a", "We found a fault on the line outside your building; an engineer will fix it "
              "tomorrow between 9 and 12."),
    ), status="pending"),
    Script("email", "en", (
        ("c", "Hello,\n\nI was charged 45 CNY for 'premium content' on my May bill, which I "
              "never subscribed to. Please refund it.\n\nThanks"),
        ("a", EN_GREET + "\n\nThe charge came from a third-party game subscription. We have "
              "cancelled it and refunded 45 CNY to your account.\n\nBest regards"),
        ("c", "Received, thank you for the quick help."),
    ), subject="Incorrect charge on my May bill"),
    Script("email", "en", (
        ("c", "How do I get an e-invoice (fapiao) for my monthly bill? My company needs it "
              "for reimbursement."),
        ("a", EN_GREET + " In the app, go to Me → Invoices, pick the month and enter your "
              "company's name and tax ID."),
    ), subject="E-invoice for my bill", uses=3),
    Script("web", "en", (
        ("c", "I'm moving to Hong Kong next month. Can I keep my number?"),
        ("a", EN_GREET + " You can keep it with international roaming, or switch to a "
              "dual-number plan that adds a Hong Kong number for 38 CNY a month."),
        ("c", "The dual-number plan sounds good, how do I sign up?"),
    ), status="open", uses=3),
    Script("voice", "en", (
        ("c", "Hi, I'm calling because my SIM stopped working after I changed phones."),
        ("n", "Call summary: eSIM profile was still bound to the old device; re-issued QR code "
              "by e-mail, customer confirmed service restored"),
    ), queue="综合咨询", uses=3),
    Script("app", "en", (
        ("c", "The app keeps saying my payment failed but the money left my card."),
        ("a", EN_GREET + " I can see the payment is pending with the bank; it will either "
              "complete or be returned within 24 hours."),
        ("c", "OK, I'll wait. Please let me know if anything changes."),
    ), status="pending", uses=3),
)

ENTERPRISE = (
    Script("enterprise", "zh-CN", (
        ("c", "我司深圳至上海的 100M 数据专线今天 9:20 起中断，影响生产系统，请尽快处理！"),
        ("a", "您好，已收到，已启动重大故障处理流程，工程师正在排查。"),
        ("n", "骨干网割接导致中断，已通知客户经理"),
        ("a", "专线已于 10:45 恢复，原因为骨干网割接异常，详细故障报告将在 24 小时内提供。"),
        ("c", "已确认恢复，请尽快提供故障报告。"),
    ), subject="紧急：数据专线中断报障", uses=3, enterprise=True),
    Script("enterprise", "zh-CN", (
        ("c", "我们计划下季度新增 6 台云主机（8 核 16G），请提供报价和交付周期。"),
        ("a", "您好，报价单已附上，标准交付周期 3 个工作日，客户经理会与您确认合同细节。"),
    ), subject="云主机扩容报价", status="pending", uses=3, enterprise=True),
    Script("enterprise", "zh-CN", (
        ("c", "5G 行业专网合同即将到期，希望续约并把带宽从 500M 提升到 1G，请安排沟通。"),
    ), subject="5G 行业专网续约", status="open", uses=3, enterprise=True),
    Script("enterprise", "en", (
        ("c", "We are seeing 80 ms latency on the Hong Kong–Shenzhen line since this morning; "
              "it is normally under 10 ms."),
        ("a", "Thanks for reporting. We rerouted traffic around a congested node; latency "
              "should be back to normal now."),
        ("c", "Confirmed, it's back to 7 ms. Thanks."),
    ), subject="Dedicated line latency HK–SZ", uses=3, enterprise=True),
    Script("enterprise", "zh-TW", (
        ("c", "集團短號需要新增 20 位新進同仁，名單如附件，請協助開通。"),
        ("a", "您好，已收到名單，預計兩個工作天內開通完成，完成後以郵件通知。"),
    ), subject="集團短號新增成員", uses=2, enterprise=True),
    Script("enterprise", "zh-CN", (
        ("c", "我司名称变更，请将增值税专用发票抬头改为新名称，营业执照扫描件见附件。"),
        ("bn", "账务组：抬头变更已完成，下期发票生效"),
        ("a", "您好，发票抬头已变更，下期起按新名称开具。"),
    ), subject="增值税发票抬头变更", uses=2, enterprise=True),
)

SCRIPTS_INTL: tuple[Script, ...] = (*TRADITIONAL, *ENGLISH, *ENTERPRISE)
