// The quantization_config of GPTQ and AWQ checkpoints (config.json, or AutoGPTQ's older
// quantize_config.json): how their integer weights are packed and grouped.
import Foundation

public struct PackedQuantization: Sendable, Equatable, CustomStringConvertible {
    public enum Method: String, Sendable { case gptq, awq }

    public var method: Method
    /// 4 or 8 (AWQ: 4).
    public var bits: Int
    /// Inputs per group of one scale and zero; nil for one group over all inputs (group_size -1).
    public var groupSize: Int?
    /// GPTQ's act-order: groups follow the g_idx tensor instead of the input order.
    public var actOrder: Bool
    public var symmetric: Bool
    /// GPTQ's original format stores each zero point minus one; gptq_v2 stores it as it is.
    public var zeroOffset: Int

    public var description: String {
        var parts = ["\(method.rawValue.uppercased()) \(bits)-bit", groupSize.map { "group \($0)" } ?? "one group per row"]
        if method == .gptq {
            parts.append(symmetric ? "symmetric" : "asymmetric")
            if actOrder { parts.append("act-order") }
        }
        return parts.joined(separator: ", ")
    }

    /// The folder's packed quantization, nil for a checkpoint of plain floats.
    public static func load(directory: URL) throws -> PackedQuantization? {
        let configURL = directory.appendingPathComponent("config.json")
        let legacyURL = directory.appendingPathComponent("quantize_config.json")
        let fm = FileManager.default
        var source = configURL
        var json = fm.fileExists(atPath: configURL.path) ? try JSONParser.parse(contentsOf: configURL)["quantization_config"] : nil
        if json == nil, fm.fileExists(atPath: legacyURL.path) {
            source = legacyURL
            json = try JSONParser.parse(contentsOf: legacyURL)
        }
        guard let json else { return nil }
        do { return try PackedQuantization(json: json) } catch let error as FormatError {
            throw FormatError("\(source.path): \(error.message)")
        }
    }

    public init(json: JSONValue) throws {
        guard json.objectValue != nil else { throw FormatError("quantization_config is not a JSON object") }
        // AutoGPTQ's quantize_config.json has no quant_method; it is GPTQ.
        let methodName = (json["quant_method"]?.stringValue ?? "gptq").lowercased()
        guard let method = Method(rawValue: methodName) else {
            throw FormatError("quantization method '\(methodName)' is not supported (supported: gptq, awq)")
        }
        self.method = method
        bits = json["bits"]?.intValue ?? json["w_bit"]?.intValue ?? 4
        let group = json["group_size"]?.intValue ?? json["q_group_size"]?.intValue ?? 128
        groupSize = group == -1 ? nil : group
        actOrder = json["desc_act"]?.boolValue ?? false
        symmetric = json["sym"]?.boolValue ?? true
        switch method {
        case .gptq:
            guard bits == 4 || bits == 8 else { throw FormatError("GPTQ with \(bits) bits is not supported (supported: 4, 8)") }
            let format = json["checkpoint_format"]?.stringValue ?? "gptq"
            guard format == "gptq" || format == "gptq_v2" else {
                throw FormatError("GPTQ checkpoint_format '\(format)' is not supported (supported: gptq, gptq_v2)")
            }
            zeroOffset = format == "gptq" ? 1 : 0
        case .awq:
            guard bits == 4 else { throw FormatError("AWQ with \(bits) bits is not supported (supported: 4)") }
            let version = (json["version"]?.stringValue ?? "gemm").lowercased()
            guard version == "gemm" else { throw FormatError("AWQ version '\(version)' is not supported (supported: gemm)") }
            guard json["zero_point"]?.boolValue ?? true else { throw FormatError("AWQ without zero points is not supported") }
            actOrder = false
            symmetric = false
            zeroOffset = 0
        }
        if let groupSize, groupSize <= 0 || groupSize % 32 != 0 {
            throw FormatError("group_size \(groupSize) is not supported (a multiple of 32, or -1)")
        }
    }
}
