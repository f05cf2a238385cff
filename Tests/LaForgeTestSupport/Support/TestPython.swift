import Foundation

/// The Python with the cross-check packages: $LAFORGE_PYTHON (set by scripts/test), else .build/venv.
func testPythonInterpreter() -> String? {
    let environment = ProcessInfo.processInfo.environment["LAFORGE_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    let candidate = environment ?? CPluginBuilder.packageRoot.appendingPathComponent(".build/venv/bin/python").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}
