# lit configuration of Kiln's GoogleTest unit tests.
import os

import lit.formats

config.name = "KILN-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.kiln_obj_root, "test", "Unit")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
