"""Questions in plain words, asked in the app's Messages tab, in Slack's assistant panel or by @-mentioning the
app in a channel, answered from the same data and views as the slash commands (`bot.ask` understands them)."""
