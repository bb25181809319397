"""The protobuf messages of the TWS API that the mock reads and writes: field names, numbers and types.

Transcribed from the message descriptors IB ships in the official client (``ibapi/protobuf/*_pb2.py``
of ibapi-latest 10.51.1, identical in ibapi-stable 10.50.2), for the messages this gateway serves
only. The official modules are not a runtime dependency: IB's licence forbids redistributing the
API code and the packages install a top-level ``ibapi`` that replaces ibapi 9.81. Tests decode the
mock's bytes with those official modules (tests/gateway/test_protobuf_layouts.py), so a field
transcribed wrong here fails there.

Format, one message a line: ``Name | field=number:type ...``; ``type[]`` is repeated,
``map<k,v>`` a map, a capitalised type another message of this table.
"""
from __future__ import annotations

from dataclasses import dataclass

_SCHEMA = """
AccountDataEnd | accountName=1:string
AccountDataRequest | subscribe=1:bool acctCode=2:string
AccountSummary | reqId=1:int32 account=2:string tag=3:string value=4:string currency=5:string
AccountSummaryEnd | reqId=1:int32
AccountSummaryRequest | reqId=1:int32 group=2:string tags=3:string
AccountUpdateMulti | reqId=1:int32 account=2:string modelCode=3:string key=4:string value=5:string currency=6:string
AccountUpdateMultiEnd | reqId=1:int32
AccountUpdateTime | timeStamp=1:string
AccountUpdatesMultiRequest | reqId=1:int32 account=2:string modelCode=3:string ledgerAndNLV=4:bool
AccountValue | key=1:string value=2:string currency=3:string accountName=4:string
AllOpenOrdersRequest |
AttachedOrders | slOrderId=1:int32 slOrderType=2:string ptOrderId=3:int32 ptOrderType=4:string
AutoOpenOrdersRequest | autoBind=1:bool
CancelAccountSummary | reqId=1:int32
CancelAccountUpdatesMulti | reqId=1:int32
CancelContractData | reqId=1:int32
CalculateImpliedVolatilityRequest | reqId=1:int32 contract=2:Contract optionPrice=3:double underPrice=4:double impliedVolatilityOptions=5:map<string,string>
CalculateOptionPriceRequest | reqId=1:int32 contract=2:Contract volatility=3:double underPrice=4:double optionPriceOptions=5:map<string,string>
CancelCalculateImpliedVolatility | reqId=1:int32
CancelCalculateOptionPrice | reqId=1:int32
CancelHeadTimestamp | reqId=1:int32
CancelHistogramData | reqId=1:int32
CancelHistoricalData | reqId=1:int32
CancelHistoricalTicks | reqId=1:int32
CancelMarketData | reqId=1:int32
CancelMarketDepth | reqId=1:int32 isSmartDepth=2:bool
CancelOrderRequest | orderId=1:int32 orderCancel=2:OrderCancel
CancelPnL | reqId=1:int32
CancelPnLSingle | reqId=1:int32
CancelPositions |
CancelPositionsMulti | reqId=1:int32
CancelRealTimeBars | reqId=1:int32
CancelTickByTick | reqId=1:int32
ComboLeg | conId=1:int32 ratio=2:int32 action=3:string exchange=4:string openClose=5:int32 shortSalesSlot=6:int32 designatedLocation=7:string exemptCode=8:int32 perLegPrice=9:double
CommissionAndFeesReport | execId=1:string commissionAndFees=2:double currency=3:string realizedPNL=4:double bondYield=5:double yieldRedemptionDate=6:string
CompletedOrder | contract=1:Contract order=2:Order orderState=3:OrderState
CompletedOrdersEnd |
CompletedOrdersRequest | apiOnly=1:bool
Contract | conId=1:int32 symbol=2:string secType=3:string lastTradeDateOrContractMonth=4:string strike=5:double right=6:string multiplier=7:double exchange=8:string primaryExch=9:string currency=10:string localSymbol=11:string tradingClass=12:string secIdType=13:string secId=14:string description=15:string issuerId=16:string deltaNeutralContract=17:DeltaNeutralContract includeExpired=18:bool comboLegsDescrip=19:string comboLegs=20:ComboLeg[] lastTradeDate=21:string
ContractData | reqId=1:int32 contract=2:Contract contractDetails=3:ContractDetails
ContractDataEnd | reqId=1:int32
ContractDataRequest | reqId=1:int32 contract=2:Contract
ContractDescription | contract=1:Contract derivativeSecTypes=2:string[]
ContractDetails | marketName=1:string minTick=2:string orderTypes=3:string validExchanges=4:string priceMagnifier=5:int32 underConId=6:int32 longName=7:string contractMonth=8:string industry=9:string category=10:string subcategory=11:string timeZoneId=12:string tradingHours=13:string liquidHours=14:string evRule=15:string evMultiplier=16:double secIdList=17:map<string,string> aggGroup=18:int32 underSymbol=19:string underSecType=20:string marketRuleIds=21:string realExpirationDate=22:string stockType=23:string minSize=24:string sizeIncrement=25:string suggestedSizeIncrement=26:string fundName=27:string fundFamily=28:string fundType=29:string fundFrontLoad=30:string fundBackLoad=31:string fundBackLoadTimeInterval=32:string fundManagementFee=33:string fundClosed=34:bool fundClosedForNewInvestors=35:bool fundClosedForNewMoney=36:bool fundNotifyAmount=37:string fundMinimumInitialPurchase=38:string fundMinimumSubsequentPurchase=39:string fundBlueSkyStates=40:string fundBlueSkyTerritories=41:string fundDistributionPolicyIndicator=42:string fundAssetType=43:string cusip=44:string issueDate=45:string ratings=46:string bondType=47:string coupon=48:double couponType=49:string convertible=50:bool callable=51:bool puttable=52:bool descAppend=53:string nextOptionDate=54:string nextOptionType=55:string nextOptionPartial=56:bool bondNotes=57:string ineligibilityReasonList=58:IneligibilityReason[] eventContract1=59:string eventContractDescription1=60:string eventContractDescription2=61:string minAlgoSize=62:string lastPricePrecision=63:string lastSizePrecision=64:string settlementMethod=65:string
CurrentTime | currentTime=1:int64
CurrentTimeInMillis | currentTimeInMillis=1:int64
CurrentTimeInMillisRequest |
CurrentTimeRequest |
DeltaNeutralContract | conId=1:int32 delta=2:double price=3:double
DepthMarketDataDescription | exchange=1:string secType=2:string listingExch=3:string serviceDataType=4:string aggGroup=5:int32
ErrorMessage | id=1:int32 errorTime=2:int64 errorCode=3:int32 errorMsg=4:string advancedOrderRejectJson=5:string
Execution | orderId=1:int32 execId=2:string time=3:string acctNumber=4:string exchange=5:string side=6:string shares=7:string price=8:double permId=9:int64 clientId=10:int32 isLiquidation=11:bool cumQty=12:string avgPrice=13:double orderRef=14:string evRule=15:string evMultiplier=16:double modelCode=17:string lastLiquidity=18:int32 isPriceRevisionPending=19:bool submitter=20:string optExerciseOrLapseType=21:int32
ExecutionDetails | reqId=1:int32 contract=2:Contract execution=3:Execution
ExecutionDetailsEnd | reqId=1:int32
ExecutionFilter | clientId=1:int32 acctCode=2:string time=3:string symbol=4:string secType=5:string exchange=6:string side=7:string lastNDays=8:int32 specificDates=9:int32[]
ExecutionRequest | reqId=1:int32 executionFilter=2:ExecutionFilter
FamilyCode | accountId=1:string familyCode=2:string
FamilyCodes | familyCodes=1:FamilyCode[]
FamilyCodesRequest |
GlobalCancelRequest | orderCancel=1:OrderCancel
HeadTimestamp | reqId=1:int32 headTimestamp=2:string
HeadTimestampRequest | reqId=1:int32 contract=2:Contract useRTH=3:bool whatToShow=4:string formatDate=5:int32
HistogramData | reqId=1:int32 histogramDataEntries=2:HistogramDataEntry[]
HistoricalNewsEnd | reqId=1:int32 hasMore=2:bool
HistoricalNews | reqId=1:int32 time=2:string providerCode=3:string articleId=4:string headline=5:string
NewsArticle | reqId=1:int32 articleType=2:int32 articleText=3:string
NewsArticleRequest | reqId=1:int32 providerCode=2:string articleId=3:string newsArticleOptions=4:map<string,string>
HistoricalNewsRequest | reqId=1:int32 conId=2:int32 providerCodes=3:string startDateTime=4:string endDateTime=5:string totalResults=6:int32 historicalNewsOptions=7:map<string,string>
HistogramDataEntry | price=1:double size=2:string
HistogramDataRequest | reqId=1:int32 contract=2:Contract useRTH=3:bool timePeriod=4:string
HistoricalData | reqId=1:int32 historicalDataBars=2:HistoricalDataBar[]
HistoricalDataBar | date=1:string open=2:double high=3:double low=4:double close=5:double volume=6:string WAP=7:string barCount=8:int32
HistoricalDataEnd | reqId=1:int32 startDateStr=2:string endDateStr=3:string
HistoricalDataRequest | reqId=1:int32 contract=2:Contract endDateTime=3:string barSizeSetting=4:string duration=5:string useRTH=6:bool whatToShow=7:string formatDate=8:int32 keepUpToDate=9:bool chartOptions=10:map<string,string>
HistoricalDataUpdate | reqId=1:int32 historicalDataBar=2:HistoricalDataBar
HistoricalTick | time=1:int64 price=2:double size=3:string
HistoricalTickBidAsk | time=1:int64 tickAttribBidAsk=2:TickAttribBidAsk priceBid=3:double priceAsk=4:double sizeBid=5:string sizeAsk=6:string
HistoricalTickLast | time=1:int64 tickAttribLast=2:TickAttribLast price=3:double size=4:string exchange=5:string specialConditions=6:string
HistoricalTicks | reqId=1:int32 historicalTicks=2:HistoricalTick[] isDone=3:bool
HistoricalTicksBidAsk | reqId=1:int32 historicalTicksBidAsk=2:HistoricalTickBidAsk[] isDone=3:bool
HistoricalTicksLast | reqId=1:int32 historicalTicksLast=2:HistoricalTickLast[] isDone=3:bool
HistoricalTicksRequest | reqId=1:int32 contract=2:Contract startDateTime=3:string endDateTime=4:string numberOfTicks=5:int32 whatToShow=6:string useRTH=7:bool ignoreSize=8:bool miscOptions=9:map<string,string>
IdsRequest | numIds=1:int32
IneligibilityReason | id=1:string description=2:string
ManagedAccounts | accountsList=1:string
ManagedAccountsRequest |
MarketDataRequest | reqId=1:int32 contract=2:Contract genericTickList=3:string snapshot=4:bool regulatorySnapshot=5:bool marketDataOptions=6:map<string,string>
MarketDataType | reqId=1:int32 marketDataType=2:int32
MarketDataTypeRequest | marketDataType=1:int32
MarketDepth | reqId=1:int32 marketDepthData=2:MarketDepthData
MarketDepthData | position=1:int32 operation=2:int32 side=3:int32 price=4:double size=5:string marketMaker=6:string isSmartDepth=7:bool
MarketDepthExchanges | depthMarketDataDescriptions=1:DepthMarketDataDescription[]
MarketDepthExchangesRequest |
MarketDepthL2 | reqId=1:int32 marketDepthData=2:MarketDepthData
MarketDepthRequest | reqId=1:int32 contract=2:Contract numRows=3:int32 isSmartDepth=4:bool marketDepthOptions=5:map<string,string>
MarketRule | marketRuleId=1:int32 priceIncrements=2:PriceIncrement[]
MarketRuleRequest | marketRuleId=1:int32
ScannerSubscriptionRequest | reqId=1:int32 scannerSubscription=2:ScannerSubscription
ScannerSubscription | numberOfRows=1:int32 instrument=2:string locationCode=3:string scanCode=4:string abovePrice=5:double belowPrice=6:double aboveVolume=7:int64 marketCapAbove=8:double marketCapBelow=9:double moodyRatingAbove=10:string moodyRatingBelow=11:string spRatingAbove=12:string spRatingBelow=13:string maturityDateAbove=14:string maturityDateBelow=15:string couponRateAbove=16:double couponRateBelow=17:double excludeConvertible=18:bool averageOptionVolumeAbove=19:int64 scannerSettingPairs=20:string stockTypeFilter=21:string scannerSubscriptionFilterOptions=22:map<string,string> scannerSubscriptionOptions=23:map<string,string>
CancelScannerSubscription | reqId=1:int32
ScannerParametersRequest |
MatchingSymbolsRequest | reqId=1:int32 pattern=2:string
NewsProvider | providerCode=1:string providerName=2:string
NewsProviders | newsProviders=1:NewsProvider[]
NewsProvidersRequest |
NextValidId | orderId=1:int32
OpenOrder | orderId=1:int32 contract=2:Contract order=3:Order orderState=4:OrderState
OpenOrdersEnd |
OpenOrdersRequest |
Order | clientId=1:int32 orderId=2:int32 permId=3:int64 parentId=4:int32 action=5:string totalQuantity=6:string displaySize=7:int32 orderType=8:string lmtPrice=9:double auxPrice=10:double tif=11:string account=12:string settlingFirm=13:string clearingAccount=14:string clearingIntent=15:string allOrNone=16:bool blockOrder=17:bool hidden=18:bool outsideRth=19:bool sweepToFill=20:bool percentOffset=21:double trailingPercent=22:double trailStopPrice=23:double minQty=24:int32 goodAfterTime=25:string goodTillDate=26:string ocaGroup=27:string orderRef=28:string rule80A=29:string ocaType=30:int32 triggerMethod=31:int32 activeStartTime=32:string activeStopTime=33:string faGroup=34:string faMethod=35:string faPercentage=36:string volatility=37:double volatilityType=38:int32 continuousUpdate=39:bool referencePriceType=40:int32 deltaNeutralOrderType=41:string deltaNeutralAuxPrice=42:double deltaNeutralConId=43:int32 deltaNeutralOpenClose=44:string deltaNeutralShortSale=45:bool deltaNeutralShortSaleSlot=46:int32 deltaNeutralDesignatedLocation=47:string scaleInitLevelSize=48:int32 scaleSubsLevelSize=49:int32 scalePriceIncrement=50:double scalePriceAdjustValue=51:double scalePriceAdjustInterval=52:int32 scaleProfitOffset=53:double scaleAutoReset=54:bool scaleInitPosition=55:int32 scaleInitFillQty=56:int32 scaleRandomPercent=57:bool scaleTable=58:string hedgeType=59:string hedgeParam=60:string algoStrategy=61:string algoParams=62:map<string,string> algoId=63:string smartComboRoutingParams=64:map<string,string> whatIf=65:bool transmit=66:bool overridePercentageConstraints=67:bool openClose=68:string origin=69:int32 shortSaleSlot=70:int32 designatedLocation=71:string exemptCode=72:int32 deltaNeutralSettlingFirm=73:string deltaNeutralClearingAccount=74:string deltaNeutralClearingIntent=75:string discretionaryAmt=76:double optOutSmartRouting=77:bool startingPrice=78:double stockRefPrice=79:double delta=80:double stockRangeLower=81:double stockRangeUpper=82:double notHeld=83:bool orderMiscOptions=84:map<string,string> solicited=85:bool randomizeSize=86:bool randomizePrice=87:bool referenceContractId=88:int32 peggedChangeAmount=89:double isPeggedChangeAmountDecrease=90:bool referenceChangeAmount=91:double referenceExchangeId=92:string adjustedOrderType=93:string triggerPrice=94:double adjustedStopPrice=95:double adjustedStopLimitPrice=96:double adjustedTrailingAmount=97:double adjustableTrailingUnit=98:int32 lmtPriceOffset=99:double conditions=100:OrderCondition[] conditionsCancelOrder=101:bool conditionsIgnoreRth=102:bool modelCode=103:string extOperator=104:string softDollarTier=105:SoftDollarTier cashQty=106:double mifid2DecisionMaker=107:string mifid2DecisionAlgo=108:string mifid2ExecutionTrader=109:string mifid2ExecutionAlgo=110:string dontUseAutoPriceForHedge=111:bool isOmsContainer=112:bool discretionaryUpToLimitPrice=113:bool autoCancelDate=114:string filledQuantity=115:string refFuturesConId=116:int32 autoCancelParent=117:bool shareholder=118:string imbalanceOnly=119:bool routeMarketableToBbo=120:int32 parentPermId=121:int64 usePriceMgmtAlgo=122:int32 duration=123:int32 postToAts=124:int32 advancedErrorOverride=125:string manualOrderTime=126:string minTradeQty=127:int32 minCompeteSize=128:int32 competeAgainstBestOffset=129:double midOffsetAtWhole=130:double midOffsetAtHalf=131:double customerAccount=132:string professionalCustomer=133:bool bondAccruedInterest=134:string includeOvernight=135:bool manualOrderIndicator=136:int32 submitter=137:string deactivate=138:bool postOnly=139:bool allowPreOpen=140:bool ignoreOpenAuction=141:bool seekPriceImprovement=142:int32 whatIfType=143:int32 hedgeMaxSize=144:int32 conditionsIncludeOvernight=145:bool
OrderAllocation | account=1:string position=2:string positionDesired=3:string positionAfter=4:string desiredAllocQty=5:string allowedAllocQty=6:string isMonetary=7:bool
OrderBound | permId=1:int64 clientId=2:int32 orderId=3:int32
OrderCancel | manualOrderCancelTime=1:string extOperator=2:string manualOrderIndicator=3:int32
OrderCondition | type=1:int32 isConjunctionConnection=2:bool isMore=3:bool conId=4:int32 exchange=5:string symbol=6:string secType=7:string percent=8:int32 changePercent=9:double price=10:double triggerMethod=11:int32 time=12:string volume=13:int32
OrderState | status=1:string initMarginBefore=2:double maintMarginBefore=3:double equityWithLoanBefore=4:double initMarginChange=5:double maintMarginChange=6:double equityWithLoanChange=7:double initMarginAfter=8:double maintMarginAfter=9:double equityWithLoanAfter=10:double commissionAndFees=11:double minCommissionAndFees=12:double maxCommissionAndFees=13:double commissionAndFeesCurrency=14:string marginCurrency=15:string initMarginBeforeOutsideRTH=16:double maintMarginBeforeOutsideRTH=17:double equityWithLoanBeforeOutsideRTH=18:double initMarginChangeOutsideRTH=19:double maintMarginChangeOutsideRTH=20:double equityWithLoanChangeOutsideRTH=21:double initMarginAfterOutsideRTH=22:double maintMarginAfterOutsideRTH=23:double equityWithLoanAfterOutsideRTH=24:double suggestedSize=25:string rejectReason=26:string orderAllocations=27:OrderAllocation[] warningText=28:string completedTime=29:string completedStatus=30:string
OrderStatus | orderId=1:int32 status=2:string filled=3:string remaining=4:string avgFillPrice=5:double permId=6:int64 parentId=7:int32 lastFillPrice=8:double clientId=9:int32 whyHeld=10:string mktCapPrice=11:double
PlaceOrderRequest | orderId=1:int32 contract=2:Contract order=3:Order attachedOrders=4:AttachedOrders
PnL | reqId=1:int32 dailyPnL=2:double unrealizedPnL=3:double realizedPnL=4:double
PnLRequest | reqId=1:int32 account=2:string modelCode=3:string
PnLSingle | reqId=1:int32 position=2:string dailyPnL=3:double unrealizedPnL=4:double realizedPnL=5:double value=6:double
PnLSingleRequest | reqId=1:int32 account=2:string modelCode=3:string conId=4:int32
PortfolioValue | contract=1:Contract position=2:string marketPrice=3:double marketValue=4:double averageCost=5:double unrealizedPNL=6:double realizedPNL=7:double accountName=8:string
Position | account=1:string contract=2:Contract position=3:string avgCost=4:double
PositionEnd |
PositionMulti | reqId=1:int32 account=2:string contract=3:Contract position=4:string avgCost=5:double modelCode=6:string
PositionMultiEnd | reqId=1:int32
PositionsMultiRequest | reqId=1:int32 account=2:string modelCode=3:string
PositionsRequest |
PriceIncrement | lowEdge=1:double increment=2:double
RealTimeBarTick | reqId=1:int32 time=2:int64 open=3:double high=4:double low=5:double close=6:double volume=7:string WAP=8:string count=9:int32
RealTimeBarsRequest | reqId=1:int32 contract=2:Contract barSize=3:int32 whatToShow=4:string useRTH=5:bool realTimeBarsOptions=6:map<string,string>
SecDefOptParameter | reqId=1:int32 exchange=2:string underlyingConId=3:int32 tradingClass=4:string multiplier=5:string expirations=6:string[] strikes=7:double[]
SecDefOptParameterEnd | reqId=1:int32
SecDefOptParamsRequest | reqId=1:int32 underlyingSymbol=2:string futFopExchange=3:string underlyingSecType=4:string underlyingConId=5:int32
SetServerLogLevelRequest | logLevel=1:int32
SmartComponent | bitNumber=1:int32 exchange=2:string exchangeLetter=3:string
SmartComponents | reqId=1:int32 smartComponents=2:SmartComponent[]
SmartComponentsRequest | reqId=1:int32 bboExchange=2:string
SoftDollarTier | name=1:string value=2:string displayName=3:string
SoftDollarTiers | reqId=1:int32 softDollarTiers=2:SoftDollarTier[]
SoftDollarTiersRequest | reqId=1:int32
StartApiRequest | clientId=1:int32 optionalCapabilities=2:string
SymbolSamples | reqId=1:int32 contractDescriptions=2:ContractDescription[]
TickAttribBidAsk | bidPastLow=1:bool askPastHigh=2:bool
TickAttribLast | pastLimit=1:bool unreported=2:bool
TickByTickData | reqId=1:int32 tickType=2:int32 historicalTickLast=3:HistoricalTickLast historicalTickBidAsk=4:HistoricalTickBidAsk historicalTickMidPoint=5:HistoricalTick
TickByTickRequest | reqId=1:int32 contract=2:Contract tickType=3:string numberOfTicks=4:int32 ignoreSize=5:bool
TickGeneric | reqId=1:int32 tickType=2:int32 value=3:double
TickOptionComputation | reqId=1:int32 tickType=2:int32 tickAttrib=3:int32 impliedVol=4:double delta=5:double optPrice=6:double pvDividend=7:double gamma=8:double vega=9:double theta=10:double undPrice=11:double
TickPrice | reqId=1:int32 tickType=2:int32 price=3:double size=4:string attrMask=5:int32
TickReqParams | reqId=1:int32 minTick=2:string bboExchange=3:string snapshotPermissions=4:int32 lastPricePrecision=5:string lastSizePrecision=6:string
TickSize | reqId=1:int32 tickType=2:int32 size=3:string
TickSnapshotEnd | reqId=1:int32
TickString | reqId=1:int32 tickType=2:int32 value=3:string
UserInfo | reqId=1:int32 whiteBrandingId=2:string
UserInfoRequest | reqId=1:int32
"""

SCALARS = frozenset({"int32", "int64", "uint32", "uint64", "bool", "double", "float", "string", "bytes", "enum"})


@dataclass(frozen=True)
class Field:
    name: str
    number: int
    type: str              # a scalar name, a message name, or "map"
    repeated: bool = False
    map_value: str = ""    # for maps (keys are strings in every IB message)


@dataclass(frozen=True)
class Message:
    name: str
    by_name: dict[str, Field]
    by_number: dict[int, Field]


def _parse(text: str) -> dict[str, Message]:
    out: dict[str, Message] = {}
    for line in text.strip().splitlines():
        name, _, rest = line.partition("|")
        fields: list[Field] = []
        for item in rest.split():
            fname, _, spec = item.partition("=")
            num_text, _, ftype = spec.partition(":")
            if ftype.startswith("map<"):
                value_type = ftype[4:-1].split(",")[1]
                fields.append(Field(fname, int(num_text), "map", False, value_type))
            elif ftype.endswith("[]"):
                fields.append(Field(fname, int(num_text), ftype[:-2], True))
            else:
                fields.append(Field(fname, int(num_text), ftype))
        out[name.strip()] = Message(name.strip(), {f.name: f for f in fields}, {f.number: f for f in fields})
    for msg in out.values():
        for f in msg.by_name.values():
            inner = f.map_value if f.type == "map" else f.type
            if inner not in SCALARS and inner not in out:
                raise ValueError(f"schema: {msg.name}.{f.name} refers to unknown message {inner}")
    return out


MESSAGES: dict[str, Message] = _parse(_SCHEMA)
