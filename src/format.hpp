// Internal: the library's sources format numbers for messages and JSON as mfgrad/message.hpp says.
#pragma once

#include "mfgrad/message.hpp"
