#if LAFORGE_LIBFUZZER
    import Foundation

    /// The target named by LAFORGE_FUZZ_TARGET (scripts/fuzz sets it), read once.
    let selectedTarget: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["LAFORGE_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data(
                "laforge-fuzz: set LAFORGE_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(64)
        }
        return target
    }()

    /// libFuzzer's entry: one input, borrowed for the call.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func laforgeFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        selectedTarget.run(bytes)
        return 0
    }
#else
    import Foundation

    /// Without libFuzzer (an ordinary `swift build`): replays inputs through a target, so every
    /// committed corpus input — every crash ever found among them — runs in the normal test suite
    /// (FuzzRegressionTests). `laforge-fuzz TARGET PATH...`, each PATH a file or a folder of
    /// inputs; exits 0 when every input was handled, and crashes like the fuzzer would otherwise.
    @main
    struct FuzzReplay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
                FileHandle.standardError.write(Data("usage: laforge-fuzz \(names) FILE_OR_FOLDER...\n".utf8))
                exit(64)
            }
            var count = 0
            for path in arguments.dropFirst() {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                    FileHandle.standardError.write(Data("laforge-fuzz: \(path): no such file or folder\n".utf8))
                    exit(66)
                }
                let files = isFolder.boolValue
                    ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                    : [path]
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else { continue }
                    target.run(Array(data))
                    count += 1
                }
            }
            print("laforge-fuzz \(name): \(count) inputs handled")
        }
    }
#endif
