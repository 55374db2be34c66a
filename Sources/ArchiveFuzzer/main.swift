// `ArchiveFuzzer TARGET FILE...` replays files through the fuzz entries (FuzzEntry.swift); built
// by Scripts/fuzz with -DFUZZING it runs libFuzzer on THUGATE_FUZZ_TARGET.
import FuzzSupport

FuzzMain.run(ArchiveFuzzTarget.self)
