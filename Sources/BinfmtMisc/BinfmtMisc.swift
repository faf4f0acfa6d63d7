// The registration model: binfmt_misc entries as values, and the operations on them.
import ELFEngine
