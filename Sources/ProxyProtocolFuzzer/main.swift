// `ProxyProtocolFuzzer proxy FILE...` replays files through the fuzz entry (FuzzEntry.swift); built
// by Scripts/fuzz with -DFUZZING it runs libFuzzer on THUGATE_FUZZ_TARGET.
import FuzzSupport

FuzzMain.run(ProxyProtocolFuzzTarget.self)
