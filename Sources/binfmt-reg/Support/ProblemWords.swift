// Any error a command ends with, as the one problem it reports: the libraries' typed errors
// worded by their Words files, anything else as it describes itself.
import BinfmtMisc
import Bottling
import ELFEngine
import LinuxOS

extension Problem {
    init(for error: any Error) {
        switch error {
        case let error as ELFError: self = error.problem
        case let error as BinfmtMiscError: self = error.problem
        case let error as RegistrationError: self = error.problem
        case let error as BottleError: self = error.problem
        case let error as OSError: self.init(.operationFailed, error.words)
        default: self.init(.operationFailed, "\(error)")
        }
    }
}
