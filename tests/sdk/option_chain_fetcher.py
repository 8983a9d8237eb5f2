"""An SPX option chain fetcher written the way the seed's program is: it loads a .env
(python-dotenv never overrides a variable already set), reads the old plaintext .secrets
names, and builds a tastyware SDK session from the client secret and refresh token, which
then refreshes its own access tokens.

The one line the seed's program does not have points the SDK at TT_API_BASE_URL (the
stand-in in tests): the SDK takes its API URL from a module constant only.
"""

import os

from dotenv import load_dotenv

load_dotenv()

import tastytrade.session  # noqa: E402

if os.environ.get("TT_API_BASE_URL"):
    tastytrade.session.API_URL = os.environ["TT_API_BASE_URL"]

from tastytrade import Account, Session  # noqa: E402
from tastytrade.instruments import NestedOptionChain  # noqa: E402

session = Session(os.environ["TT_API_CLIENT_SECRET"], os.environ["TT_REFRESH_TOKEN"])
accounts = Account.get(session)
print(f"accounts: {len(accounts)}")
for chain in NestedOptionChain.get(session, "SPX"):
    first = chain.expirations[0]
    print(
        f"{chain.root_symbol}: {len(chain.expirations)} expirations, next "
        f"{first.expiration_date} ({first.settlement_type}) with {len(first.strikes)} strikes"
    )
