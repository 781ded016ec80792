"""Everyday messages that are no customer-service intent: greetings, small talk, the
weather, jokes, questions about the world. Every model learns them as one "background"
class, so that a model trained on a few dozen example questions still knows that "明天会下雨吗"
or "tell me a joke" is none of its intents. Traditional Chinese needs no list of its own:
text is converted to simplified before matching."""

from __future__ import annotations

UTTERANCES: tuple[str, ...] = (
    # English
    "hello", "hi there", "good morning", "hey", "how are you today", "what's up",
    "who are you", "are you a robot", "what is your name", "nice to meet you",
    "tell me a joke", "sing me a song", "what's the weather like tomorrow", "will it rain today",
    "what time is it", "what day is it today", "who won the football match last night",
    "recommend a good restaurant nearby", "what should I cook for dinner",
    "what is the capital of France", "how tall is Mount Everest", "who is the president",
    "what is the meaning of life", "I'm bored", "do you like music", "what's your favourite film",
    "translate this into Spanish", "how do I make pasta", "my cat is sick", "where can I buy shoes",
    "book me a flight to Paris", "what's the score of the game", "how old are you",
    "do you have a girlfriend", "write me a poem", "I love you", "you are stupid",
    "asdfgh", "test", "ok ok", "hmm", "lol", "how do I learn to swim", "best movies this year",
    "is it going to snow", "what is two plus two", "tell me about the stock market",
    "where is the nearest hospital", "how to lose weight", "what's the news today",
    # Chinese
    "你好", "在吗", "早上好", "晚上好", "你是谁", "你是机器人吗", "你叫什么名字", "很高兴认识你",
    "讲个笑话", "给我唱首歌", "明天会下雨吗", "今天天气怎么样", "现在几点了", "今天星期几",
    "昨晚的足球比赛谁赢了", "附近有什么好吃的餐厅", "晚饭吃什么好", "法国的首都是哪里",
    "珠穆朗玛峰有多高", "人生的意义是什么", "我好无聊", "你喜欢听音乐吗", "最近有什么好看的电影",
    "帮我翻译成英文", "红烧肉怎么做", "我家的猫生病了", "哪里可以买鞋", "帮我订一张去北京的机票",
    "你几岁了", "你有女朋友吗", "给我写一首诗", "我爱你", "你真笨", "测试", "哈哈哈", "嗯嗯",
    "怎么学游泳", "怎么减肥", "今天有什么新闻", "股票会涨吗", "最近的医院在哪里", "一加一等于几",
    "周末去哪里玩", "推荐一本书", "明天会下雪吗", "你吃饭了吗", "睡不着怎么办",
    "狗狗不吃东西怎么办",
)
