"""The seed's session code exactly, with NO API_URL patch: the SDK talks to
https://api.tastyworks.com, and under `ttvault exec --broker` the broker answers its token
requests and forwards the rest to the vault's endpoint (the stand-in in tests).

Arguments: `order` also places an order (refused by the read-only broker unless
`--allow-trade`); the environment as the process sees it (/proc/self/environ) is written to
environ.txt, and the CA bundle's path to bundle.txt, for the test to inspect.
"""

import os
import sys

from dotenv import load_dotenv

load_dotenv()

from decimal import Decimal  # noqa: E402

from tastytrade import Account, Session  # noqa: E402
from tastytrade.instruments import NestedOptionChain  # noqa: E402

with open("/proc/self/environ", "rb") as src, open("environ.txt", "wb") as dst:
    dst.write(src.read())
with open("bundle.txt", "w") as f:
    f.write(os.environ.get("SSL_CERT_FILE", ""))

session = Session(os.environ["TT_API_CLIENT_SECRET"], os.environ["TT_REFRESH_TOKEN"])
accounts = Account.get(session)
print(f"accounts: {len(accounts)}")
for chain in NestedOptionChain.get(session, "SPX"):
    first = chain.expirations[0]
    print(
        f"{chain.root_symbol}: {len(chain.expirations)} expirations, next "
        f"{first.expiration_date} ({first.settlement_type}) with {len(first.strikes)} strikes"
    )
# The SDK's own refresh, as it does when its token runs low.
session.refresh()
print("refreshed")

if "order" in sys.argv[1:]:
    from tastytrade.order import (  # noqa: E402
        InstrumentType,
        Leg,
        NewOrder,
        OrderAction,
        OrderTimeInForce,
        OrderType,
    )

    leg = Leg(
        instrument_type=InstrumentType.EQUITY,
        symbol="SPY",
        action=OrderAction.BUY_TO_OPEN,
        quantity=Decimal(1),
    )
    order = NewOrder(
        time_in_force=OrderTimeInForce.DAY,
        order_type=OrderType.LIMIT,
        legs=[leg],
        price=Decimal("-1.00"),
    )
    try:
        accounts[0].place_order(session, order, dry_run=False)
        print("order: placed")
    except Exception as e:  # the SDK raises on any error answer
        print(f"order: failed: {e}")
    # The SDK's error leaves out the status: the same request, sent by hand.
    url = f"/accounts/{accounts[0].account_number}/orders"
    print(f"order status: {session.sync_client.post(url, json={}).status_code}")
