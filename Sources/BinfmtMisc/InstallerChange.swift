// What install, uninstall, enable and disable did, or found already done, as values: binfmt-reg
// words them for people and for the JSON documents' `changes`.

public enum InstallerChange: Sendable, Equatable {
    /// binfmt_misc was not mounted and this run mounted it; `hostInstance`: the initial user
    /// namespace's instance rather than a user namespace's own.
    case mounted(directory: String, hostInstance: Bool)
    case interpreterInstalled(path: String, removedCapability: String?)
    case interpreterUnchanged(path: String)
    case interpreterRemoved(path: String)
    case registered(name: String, flags: RegistrationFlags)
    case entryUnchanged(name: String)
    /// As asked, but disabled: enabled again.
    case entryReenabled(name: String)
    /// Replaced by the registration asked for; `differences` as Installer.differences gives them.
    case entryReplaced(name: String, differences: [RegistrationDifference])
    /// Registered again, unchanged, so that the kernel opens the new interpreter (flag F).
    case entryReopened(name: String)
    /// Registered again, unchanged, ahead of every older registration (--reregister).
    case entryReregistered(name: String)
    case entryRemoved(name: String)
    /// An entry of ours that the plan no longer has (--no-privileged-entry after a full install).
    case entryDropped(name: String)
    case enabled(name: String)
    case disabled(name: String)
    case alreadyEnabled(name: String)
    case alreadyDisabled(name: String)
    case persistenceWritten(path: String)
    case persistenceUnchanged(path: String)
    case persistenceRemoved(path: String)
    /// uninstall masked the binfmt.d file because `packaged` would register the entries at boot.
    case persistenceMaskedForPackage(path: String, packaged: String)
    /// disable masked the binfmt.d file: the entries stay disabled after a reboot.
    case persistenceMasked(path: String)
    /// enable removed disable's mask: `packaged` registers the entries at boot.
    case maskRemoved(path: String, packaged: String)
    /// Installed, but binfmt_misc's global switch is off.
    case globallyDisabled(directory: String)
    case nothingInstalled

    /// A change that removed or hid something (uninstall says "nothing installed" without one).
    var removes: Bool {
        switch self {
        case .entryRemoved, .interpreterRemoved, .persistenceRemoved, .persistenceMaskedForPackage: return true
        default: return false
        }
    }
}

/// One field in which a registered entry differs from the one asked for: old value, new value.
public enum RegistrationDifference: Sendable, Equatable {
    case interpreter(old: String, new: String)
    case flags(old: RegistrationFlags, new: RegistrationFlags)
    case offset(old: Int, new: Int)
    /// The magic or mask: what each matches (nil: not a BOTTLE magic).
    case magic(old: SealMatch?, new: SealMatch?)
    /// M (magic) or E (extension).
    case type(old: String, new: String)
}
