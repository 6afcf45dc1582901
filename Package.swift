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
        // One file per architecture family, plus the registry from model_type.
        .target(name: "TernModels", dependencies: ["TernOps", "TernFormats"]),
        // Sampling, stop checking and the generation loop.
        .target(name: "TernEngine", dependencies: ["TernModels", "TernTokenizer", "TernTemplates", "TernFormats"]),
        .executableTarget(
            name: "TernCLI",
            dependencies: ["TernEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "TernTests",
            dependencies: ["TernEngine", "TernModels", "TernTokenizer", "TernTemplates", "TernFormats", "TernOps", "CTernKernels"],
            exclude: []
        ),
    ]
)
