// `tern list` and `tern rm`: the downloaded models in the Hugging Face and ModelScope caches.
import ArgumentParser
import Foundation
import TernFormats
import TernHub

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the models in the download caches, with their sizes.")

    func run() throws {
        let models = CacheInventory().models()
        guard !models.isEmpty else {
            print("no models downloaded (tern pull owner/name fetches one)")
            return
        }
        let width = max(4, models.map(\.repo.count).max()!)
        print("REPO".padding(toLength: width, withPad: " ", startingAt: 0) + "  SOURCE       SIZE        FOLDER")
        for model in models {
            print(model.repo.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                  + model.source.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + "  "
                  + formatBytes(model.bytes).padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + model.folder)
        }
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a downloaded model (owner/name) from the caches.")

    @Argument(help: "Repository id, as tern list shows it.") var repo: String

    func run() throws {
        do {
            for model in try CacheInventory().remove(repo) { print("removed \(model.repo) (\(model.source.rawValue), \(formatBytes(model.bytes)))") }
        } catch let error as HubError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
