// What install, uninstall, enable and disable did, in words: the lines they print, and the
// `changes` of their JSON documents.
import BinfmtMisc

extension InstallerChange {
    var message: String {
        switch self {
        case .mounted(let directory, let hostInstance):
            return "binfmt_misc: mounted at \(directory) (\(hostInstance ? "the host's instance" : "this user namespace's own instance"))"
        case .interpreterInstalled(let path, let removedCapability):
            return "\(path): installed runbottle"
                + (removedCapability.map { " (removed the earlier version's file capability \($0))" } ?? "")
        // A file's path or an entry's name.
        case .interpreterUnchanged(let subject), .entryUnchanged(let subject):
            return "\(subject): already installed, nothing changed"
        case .interpreterRemoved(let subject), .entryRemoved(let subject), .persistenceRemoved(let subject):
            return "\(subject): removed"
        case .registered(let name, let flags):
            return "\(name): registered (\(flags))"
        case .entryReenabled(let name):
            return "\(name): already installed; was disabled, enabled it"
        case .entryReplaced(let name, let differences):
            return "\(name): replaced: " + differences.map(\.words).joined(separator: "; ")
        case .entryReopened(let name):
            return "\(name): re-registered so that the kernel opens the new interpreter (F)"
        case .entryReregistered(let name):
            return "\(name): registered again, ahead of every older registration"
        case .entryDropped(let name):
            return "\(name): removed (not part of this installation)"
        case .enabled(let name):
            return "\(name): enabled"
        case .disabled(let name):
            return "\(name): disabled"
        case .alreadyEnabled(let name):
            return "\(name): already enabled"
        case .alreadyDisabled(let name):
            return "\(name): already disabled"
        case .persistenceWritten(let path):
            return "\(path): written (systemd-binfmt registers it at boot)"
        case .persistenceUnchanged(let path):
            return "\(path): already up to date"
        case .persistenceMaskedForPackage(let path, let packaged):
            return "\(path): masked (a link to /dev/null), uninstalled: \(packaged) no longer registers them at boot"
        case .persistenceMasked(let path):
            return "\(path): masked (a link to /dev/null): the entries stay disabled after a reboot"
        case .maskRemoved(let path, let packaged):
            return "\(path): mask removed: \(packaged) registers the entries at boot"
        case .globallyDisabled(let directory):
            return "binfmt_misc: globally disabled: no entry runs until \(directory)/status is enabled (echo 1 > \(directory)/status)"
        case .nothingInstalled:
            return "nothing installed, nothing changed"
        }
    }
}
