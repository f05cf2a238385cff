#if canImport(Glibc)
    import Glibc
#endif

/// The rotated siblings of the active file: `path.1`, `path.2`, … — higher is newer.
struct RotatedFiles {
    let activePath: String

    private var directory: String { PathName.directory(of: activePath) }
    private var baseName: String { PathName.baseName(of: activePath) }

    func path(number: UInt64) -> String { "\(activePath).\(number)" }

    /// The highest number in use (0 when none).
    func highestNumber() throws(FileSinkError) -> UInt64 {
        guard let stream = opendir(directory) else {
            throw SystemCall.failure("opendir", directory, errno: errno, status: Status.retry)
        }
        defer { closedir(stream) }
        let prefix = Array(baseName.utf8) + [UInt8(ascii: ".")]
        var highest: UInt64 = 0
        while let entry = readdir(stream) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            guard name.count > prefix.count, name.starts(with: prefix) else { continue }
            let suffix = name[prefix.count...]
            guard suffix.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let number = UInt64(String(decoding: suffix, as: UTF8.self))
            else { continue }
            highest = max(highest, number)
        }
        return highest
    }

    /// Renames the active file to the next free number, never replacing an existing file
    /// (another process, or an operator, may have made one). Returns the new name.
    func rotateActiveFile() throws(FileSinkError) -> String {
        var number = try highestNumber() + 1
        for _ in 0..<1000 {
            let destination = path(number: number)
            let code = SystemCall.renameNoReplace(activePath, destination)
            if code == 0 { return destination }
            guard code == EEXIST else {
                throw SystemCall.failure("rename \(activePath) to", destination, errno: code, status: Status.retry)
            }
            number += 1
        }
        throw FileSinkError(Status.retry, "rename \(activePath): no free rotation number after \(number)")
    }
}
