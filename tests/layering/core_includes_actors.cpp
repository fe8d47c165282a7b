// Must not compile: actors/core/ sits below actors/ (see tests/CMakeLists.txt).
#include "actors/core/vm_gate.hpp"
#include "actors/vm_actor.hpp"
