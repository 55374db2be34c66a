// `DocumentTextFuzzer rtf|ole2 FILE...` replays files through the fuzz entry (FuzzEntry.swift); built by
// Scripts/fuzz with -DFUZZING it runs libFuzzer.
import FuzzSupport

FuzzMain.run(DocumentTextFuzzTarget.self)
