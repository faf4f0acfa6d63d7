printf abc | openssl dgst -sha256
printf secret | openssl enc -aes-256-cbc -K "$(printf '%064d' 7)" -iv "$(printf '%032d' 3)" | openssl dgst -sha1
openssl version
