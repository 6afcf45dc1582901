// swift-tools-version:6.0
// Tern: a private-deployment LLM inference server. Layers follow DESIGN.md, one target each.
import PackageDescription

let package = Package(
    name: "Tern",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tern", targets: ["TernCLI"]),
        .library(name: "TernEngine", targets: ["TernEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Hot loops in C, with runtime CPU dispatch added per function.
        .target(name: "CTernKernels"),
        // Bytes on disk to typed descriptions: safetensors, GGUF, JSON configs. No math.
        .target(name: "TernFormats"),
        // Text to token ids and back (BPE, SentencePiece-style BPE), streaming-safe decoding.
        .target(name: "TernTokenizer", dependencies: ["TernFormats"]),
        // Chat templates: a Jinja interpreter and the model's template around it.
        .target(name: "TernTemplates", dependencies: ["TernFormats"]),
        // Tensors, weight views and the operations the models are written against.
        .target(name: "TernOps", dependencies: ["CTernKernels", "TernFormats"]),
        // The one decoder every family runs on, the family weight maps and the registry.
        .target(name: "TernModels", dependencies: ["TernOps", "TernFormats"]),
        // SHA-256, for verifying downloads.
        .target(name: "CTernDigest"),
        // Model downloads: the Hugging Face Hub (and mirrors) and ModelScope, their caches, resumable verified transfers.
        .target(
            name: "TernHub",
            dependencies: [
                "CTernDigest", "TernFormats",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Constrained decoding: JSON schemas, regexes, choices and GBNF grammars as byte-level
        // grammars, run as automata that give each step's allowed tokens.
        .target(name: "TernConstraints", dependencies: ["TernFormats"]),
        // Sampling, stop checking and the generation loop.
        .target(name: "TernEngine", dependencies: ["TernModels", "TernTokenizer", "TernTemplates", "TernFormats", "TernConstraints"]),
        // The OpenAI-compatible HTTP server: DTOs, routes, SSE, auth, metrics. Knows nothing of tensors.
        .target(
            name: "TernServer",
            dependencies: [
                "TernEngine", "TernConstraints",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "TernCLI",
            dependencies: [
                "TernEngine", "TernServer", "TernHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TernTests",
            dependencies: [
                "TernEngine", "TernServer", "TernModels", "TernTokenizer", "TernTemplates", "TernFormats", "TernOps", "CTernKernels",
                "TernHub", "CTernDigest", "TernConstraints",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            exclude: []
        ),
    ]
)
