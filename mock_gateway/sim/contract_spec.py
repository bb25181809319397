"""What contractData says about one contract (:class:`ContractSpec`), and the lists IB prints in it.

Kept apart from the book (:mod:`.contracts`) so the universe's builders can make specs without
importing the book that loads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def _num(text: object, default: float = 0.0) -> float:
    if text in ("", None):
        return default
    try:
        x = float(text)  # type: ignore[arg-type]
    except ValueError:
        return default
    return default if x >= 1.7e308 else x


@dataclass(frozen=True, repr=False)
class ContractSpec:
    """Everything contractData says about one contract (ibapi/decoder.py processContractDataMsg), plus the start price."""

    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    market_name: str
    min_tick: float
    long_name: str
    initial_price: float
    primary_exchange: str = ""
    last_trade_date: str = ""              # YYYYMMDD for FUT/OPT
    strike: float = 0.0
    right: str = ""                        # C / P
    multiplier: str = ""                   # as printed: "" for STK/CASH, "50", "100"
    contract_month: str = ""               # YYYYMM
    md_size_multiplier: int = 1            # 157 layout only
    order_types: str = ""
    valid_exchanges: str = ""
    price_magnifier: int = 1
    under_con_id: int = 0
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    time_zone_id: str = "US/Eastern"
    trading_hours: str = ""
    liquid_hours: str = ""
    ev_rule: str = ""
    ev_multiplier: str = ""
    sec_ids: tuple[tuple[str, str], ...] = ()
    agg_group: int = 1
    under_symbol: str = ""
    under_sec_type: str = ""
    market_rule_ids: str = ""
    real_expiration_date: str = ""
    stock_type: str = ""
    min_size: float = 1.0
    size_increment: float = 1.0
    suggested_size_increment: float = 1.0
    bbo_exchange: str = "9c0001"           # tickReqParams
    snapshot_permissions: int = 3
    listing_date: str = ""                 # YYYYMMDD: the first day with history (the head timestamp)

    def __repr__(self) -> str:
        return f"ContractSpec({self.con_id}, {self.sec_type} {self.local_symbol!r} @{self.exchange})"

    @property
    def multiplier_value(self) -> float:
        """The contract multiplier as a number (1 when unset)."""
        return _num(self.multiplier, 1.0) or 1.0

    @property
    def path_key(self) -> str:
        """Name of the contract's random stream: the symbol for stocks, the local symbol otherwise."""
        return self.symbol if self.sec_type == "STK" else self.local_symbol

    def wire_fields(self) -> dict[str, str | int | float]:
        """The 12 wire contract fields by attribute name, for echoing a qualified contract."""
        return {"conId": self.con_id, "symbol": self.symbol, "secType": self.sec_type,
                "lastTradeDateOrContractMonth": self.last_trade_date, "strike": self.strike, "right": self.right,
                "multiplier": self.multiplier, "exchange": self.exchange, "primaryExchange": self.primary_exchange,
                "currency": self.currency, "localSymbol": self.local_symbol, "tradingClass": self.trading_class}


#: reqSmartComponents for the bboExchange of tickReqParams: (bit number, exchange, letter). The letters are
#: what tick types 32/33 (bid/ask exchanges) and 84 (last exchange) carry for SMART-routed stocks.
SMART_COMPONENTS = ((0, "NYSE", "N"), (1, "ARCA", "P"), (2, "NASDAQ", "Q"), (3, "BATS", "Z"), (4, "IEX", "V"))

_STOCK_ORDER_TYPES = ("ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,BENCHPX,COND,CONDORDER,DARKONLY,"
                      "DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB,IOC,LIT,LMT,"
                      "LOC,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH,PEGMID,POSTATS,"
                      "POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,RELPCTOFS,RPI,RTH,SCALE,SCALEODD,SCALERST,"
                      "SIZECHK,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF")
_STOCK_VENUES = ("SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,"
                 "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX")
_FX_ORDER_TYPES = ("ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,"
                   "DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,RELPCTOFS,SCALE,"
                   "SCALERST,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF")
_FUT_ORDER_TYPES = ("ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,"
                    "DEACTEOD,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,LTH,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,SCALE,"
                    "SCALERST,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF")
_OPT_ORDER_TYPES = ("ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,"
                    "DIS,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,OPENCLOSE,PEGMIDVOL,"
                    "PEGMKTVOL,PEGPRMVOL,PEGSRFVOL,POSTONLY,PRICECHK,REL,REL2MID,RELPCTOFS,RTH,SCALE,SCALERST,"
                    "SIZECHK,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,VOLAT,WHATIF")
_OPT_VENUES = ("SMART,AMEX,CBOE,PHLX,PSE,ISE,BOX,BATS,NASDAQOM,CBOE2,NASDAQBX,MIAX,GEMINI,EDGX,MERCURY,"
               "PEARL,EMERALD,MEMX,IBUSOPT")


def occ_symbol(underlying: str, expiry: date, right: str, strike: float) -> str:
    """The OCC option symbol IB uses as localSymbol, e.g. ``AAPL  261218C00230000``."""
    return f"{underlying:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"



#: IB's market rules by id: (lowEdge, increment) pairs, as reqMarketRule answers them. Ids and first
#: increments as the real gateway answered @stoqey/ib's live suite (get-market-rule.test.ts): 26 (US
#: stocks, 0.01), 32 (US equity options: 0.01 below 3, 0.05 from 3, IB's "Minimum Increment" page), 67
#: (CME E-mini index futures, 0.25), 635 (0.0001), 2806 (0.25). Rules not listed here (the mock's index,
#: FX and other futures rules) answer from the min tick of the contracts that carry them.
MARKET_RULES: dict[int, tuple[tuple[float, float], ...]] = {
    26: ((0.0, 0.01),),
    32: ((0.0, 0.01), (3.0, 0.05)),
    67: ((0.0, 0.25),),
    635: ((0.0, 0.0001),),
    2806: ((0.0, 0.25),),
}


#: Futures with a tick other than E-mini's 0.25 carry a rule id of the mock's own from this base (IB's ids
#: for them are not public); reqMarketRule answers it from their min tick.
MOCK_FUTURE_RULE_BASE = 90000


def future_rule_id(min_tick: float) -> int:
    """Rule 67 (0.25 from zero) for quarter-point futures; otherwise the mock's id for ``min_tick``."""
    if abs(min_tick - 0.25) < 1e-12:
        return 67
    return MOCK_FUTURE_RULE_BASE + int(round(min_tick * 1e6))


def market_rule_ids_of(spec: ContractSpec) -> tuple[int, ...]:
    """The distinct integer rule ids in ``spec.market_rule_ids`` ('26,26,26' -> (26,)); blanks and junk skipped."""
    out: dict[int, None] = {}
    for part in spec.market_rule_ids.split(","):
        if part.strip().isdigit():
            out[int(part)] = None
    return tuple(out)


__all__ = ["MARKET_RULES", "MOCK_FUTURE_RULE_BASE", "ContractSpec", "future_rule_id", "market_rule_ids_of", "occ_symbol"]
