// Must not compile: messages/ sits below hcs/ (see tests/CMakeLists.txt).
#include "messages/errors.hpp"
#include "hcs/backend.hpp"
