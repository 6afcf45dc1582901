// GPT-2's reversible map from bytes to printable characters, used by byte-level BPE.

enum ByteLevelAlphabet {
    /// byteToScalar[b] is the character that stands for byte b in token strings.
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next = 256
        for byte in 0..<256 {
            if printable.contains(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(UInt32(next))!
                next += 1
            }
        }
        printable.removeAll()
        return table
    }()

    static let scalarToByte: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in byteToScalar.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(byteToScalar[Int(byte)]) }
        return String(view)
    }

    /// Bytes of a byte-level token string; nil if a character is outside the alphabet.
    static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        for scalar in token.unicodeScalars {
            guard let byte = scalarToByte[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
