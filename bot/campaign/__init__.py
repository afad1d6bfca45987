"""Campaign pre-flight rules: what an SMS campaign will cost before it is sent.

`segments` counts a message's SMS segments (GSM-7 or UCS-2); `recipients` reads the list (a CSV or text file,
or pasted numbers) within its bounds; `numbers` reads each number as `/rates` does, fast; `quote` prices the
list by the rate table's SMS rates into `results`; `preflight` is the flow, pricing in a worker thread (where
phonenumbers, which `numbers` and `quote` import, loads on first use) and reading this period's spend.
"""
