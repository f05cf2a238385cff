/// A string as it appears inside an error message: double-quoted, control characters escaped, and
/// cut after 60 characters so one huge value does not drown the message.
package func quotedForMessage(_ text: String) -> String {
    var body = ""
    for (count, character) in text.enumerated() {
        if count == 60 {
            body += "…"
            break
        }
        switch character {
        case "\"": body += "\\\""
        case "\\": body += "\\\\"
        case "\n": body += "\\n"
        case "\t": body += "\\t"
        case "\r": body += "\\r"
        default:
            if character.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }) {
                body += character.unicodeScalars.map { "\\u{\(String($0.value, radix: 16))}" }.joined()
            } else {
                body.append(character)
            }
        }
    }
    return "\"\(body)\""
}
