/// `value` in storage allocated once and never freed, for a descriptor or a vtable: the host
/// never unloads a plugin, so the pointer stays valid for as long as anyone can hold it.
func staticStorage<T>(_ value: T) -> UnsafePointer<T> {
    let storage = UnsafeMutablePointer<T>.allocate(capacity: 1)
    storage.initialize(to: value)
    return UnsafePointer(storage)
}
